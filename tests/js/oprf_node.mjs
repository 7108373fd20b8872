// Node driver of oprf_checks.mjs: `node oprf_node.mjs PATH/TO/oprf.js` reads {"check", "args"}
// as JSON on standard input and writes the check's result as JSON on standard output.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import * as checks from './oprf_checks.mjs';

const oprf = await import(pathToFileURL(process.argv[2]).href);
const { check, args } = JSON.parse(readFileSync(0, 'utf8'));
process.stdout.write(JSON.stringify(checks[check](oprf, args)));
