#!/usr/bin/env node
// The `citrix-response` executable (package.json `bin`): Node.js 24 runs the TypeScript itself.
import { processIo } from '../cli/io.ts';
import { main } from '../cli/main.ts';

process.exitCode = await main(process.argv.slice(2), processIo());
