// The browser side of tests/test_registry_oprf_js.py: loads the registry's static/oprf.js the way
// its pages will (a module under script-src 'self') and exposes oprf_checks.mjs's checks to the test.
import * as oprf from '/static/oprf.js';
import * as checks from '/oprf_checks.mjs';

window.oprfChecks = Object.fromEntries(
  Object.entries(checks).map(([name, check]) => [name, (args) => check(oprf, args)]),
);
document.body.dataset.ready = 'yes';
