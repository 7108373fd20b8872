"""A small registry world for the tests: a bank (a CII operator), an online shop, the CAC's provincial
office, the PBOC and the NFRA, with a user and an API key of every role, and a clock the test sets.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from fastapi.testclient import TestClient

from leaktrace.registry import admin, db
from leaktrace.registry.admin import ROLES_OF
from leaktrace.registry.app import create_app

PASSWORD = "correct horse battery staple"
ORGS = (
    ("某某银行股份有限公司", "institution", "bank", None, True),
    ("某某电子商务有限公司", "institution", "other", None, False),
    ("某省网信办", "regulator", None, "CAC", False),
    ("中国人民银行某分行", "regulator", None, "PBOC", False),
    ("国家金融监督管理总局某监管局", "regulator", None, "NFRA", False),
)


@dataclass
class Clock:
    """The service's time, moved by the test."""

    now: dt.datetime = dt.datetime(2026, 11, 3, 2, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class World:
    engine: sa.Engine
    app: object
    clock: Clock
    orgs: dict[str, int] = field(default_factory=dict)  # short name -> id
    keys: dict[tuple[str, str], str] = field(default_factory=dict)  # (org, role) -> API key
    users: dict[tuple[str, str], str] = field(default_factory=dict)  # (org, role) -> username

    def client(self, org: str | None = None, role: str | None = None) -> TestClient:
        """A client with the API key of ``org``'s ``role`` (anonymous without one)."""
        c = TestClient(self.app, raise_server_exceptions=False)
        if org is not None:
            c.headers["Authorization"] = f"Bearer {self.keys[(org, role or 'viewer')]}"
        return c


SHORT = ("bank", "shop", "cac", "pboc", "nfra")


def make_world(engine: sa.Engine, users: bool = False) -> World:
    """Organisations, a key (and with ``users``, a user: Argon2 takes its time) for every role of
    each, and the application on ``engine``."""
    clock = Clock()
    world = World(engine, create_app(engine=engine, migrate=False, clock=clock), clock)
    with db.transaction(engine) as session:
        for short, (name, kind, sector, authority, cii) in zip(SHORT, ORGS, strict=True):
            org = admin.create_org(session, name, kind, sector, authority, cii)
            world.orgs[short] = org.id
            for role in ROLES_OF[kind]:
                if users:
                    username = f"{short}.{role}"
                    admin.create_user(session, None, org.id, username, PASSWORD, role, username)
                    world.users[(short, role)] = username
                _key, secret = admin.create_key(session, None, org.id, f"{short} {role}", role)
                world.keys[(short, role)] = secret
    return world


def report_body(**overrides: object) -> dict:
    """An initial report of a leak of 1.2 million customers' records, in Chinese."""
    body = {
        "title": "客户信息在境外论坛被出售",
        "discovered_at": "2026-11-03T09:15:00+08:00",
        "fields": {
            "system": "个人信贷客户管理系统",
            "occurred_at": "2026-11-01T00:00:00+08:00",
            "incident_type": "data_leak",
            "harm": "约120万名客户的姓名、身份证号、手机号被公开出售",
            "measures_taken": "已冻结相关导出账号，封堵接口",
            "cause_category": "partner",
            "data_categories": ["name", "resident_id", "mobile"],
            "contact": "数据安全办公室 010-00000000",
        },
        "counts": {"people_affected": 1_200_000, "records_affected": 1_500_000},
    }
    body.update(overrides)
    return body
