#!/usr/bin/env node
// `npx msgmock …`: runs the msgmock binary of this platform's package with
// the same arguments, and ends as it ends (its status, or its signal).
'use strict';

const { spawn } = require('node:child_process');

let bin;
try {
  bin = require('../lib/binary.js').binaryPath();
} catch (err) {
  console.error(`msgmock: ${err.message}`);
  process.exit(1);
}

const child = spawn(bin, process.argv.slice(2), { stdio: 'inherit', windowsHide: true });
// Signals sent to this launcher alone (a CI runner's, `kill`) reach
// msgmock, which shuts down gracefully; at a terminal both get Ctrl-C.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}
child.on('error', (err) => {
  console.error(`msgmock: cannot run ${bin}: ${err.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});
