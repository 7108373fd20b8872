"""Shared fixtures. Ingest fixtures are named ingest_*."""

from __future__ import annotations

import pytest
from faker import Faker


@pytest.fixture(scope="session")
def ingest_header() -> list[str]:
    """Column labels as Chinese bank exports write them, matching ``ingest_people``."""
    return ["姓名", "身份证号", "手机", "地址", "卡号"]


@pytest.fixture(scope="session")
def ingest_people() -> list[list[str]]:
    """200 realistic Chinese customer rows: name, resident ID, mobile, address, card number."""
    fake = Faker("zh_CN")
    Faker.seed(20240601)
    return [
        [
            fake.name(),
            fake.ssn(),
            fake.phone_number(),
            fake.address().replace("\n", " "),
            fake.credit_card_number(),
        ]
        for _ in range(200)
    ]
