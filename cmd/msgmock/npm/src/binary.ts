// Where the msgmock binary is: in the platform package npm installed
// beside this one, as esbuild and Biome ship theirs. Each platform package
// holds one binary and says, with "os" and "cpu" in its package.json, where
// it runs; the main package lists them all in "optionalDependencies", and
// npm installs the one that fits. Nothing is downloaded at install time.
//
// This file is also the list build.mjs builds the packages from.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** One platform package: the npm names for it and the Go names for its build. */
export interface Platform {
  /** The npm package that holds the binary. */
  readonly pkg: string;
  /** process.platform, and the package's "os". */
  readonly os: NodeJS.Platform;
  /** process.arch, and the package's "cpu". */
  readonly cpu: string;
  readonly goos: string;
  readonly goarch: string;
  /** The binary's path inside the package. */
  readonly binary: string;
}

export const platforms: readonly Platform[] = [
  { pkg: '@msgmock/linux-x64', os: 'linux', cpu: 'x64', goos: 'linux', goarch: 'amd64', binary: 'bin/msgmock' },
  { pkg: '@msgmock/linux-arm64', os: 'linux', cpu: 'arm64', goos: 'linux', goarch: 'arm64', binary: 'bin/msgmock' },
  { pkg: '@msgmock/darwin-x64', os: 'darwin', cpu: 'x64', goos: 'darwin', goarch: 'amd64', binary: 'bin/msgmock' },
  { pkg: '@msgmock/darwin-arm64', os: 'darwin', cpu: 'arm64', goos: 'darwin', goarch: 'arm64', binary: 'bin/msgmock' },
  { pkg: '@msgmock/win32-x64', os: 'win32', cpu: 'x64', goos: 'windows', goarch: 'amd64', binary: 'msgmock.exe' },
  { pkg: '@msgmock/win32-arm64', os: 'win32', cpu: 'arm64', goos: 'windows', goarch: 'arm64', binary: 'msgmock.exe' },
];

/**
 * The path of the msgmock binary to run: $MSGMOCK_BINARY when it is set
 * (a binary built from a clone, say), else the one in this platform's
 * package. Throws an Error that names the package to install when there
 * is none.
 */
export function binaryPath(): string {
  const override = process.env.MSGMOCK_BINARY;
  if (override) {
    if (!existsSync(override)) {
      throw new Error(`MSGMOCK_BINARY is ${override}, and there is no file there`);
    }
    return override;
  }
  const here = platforms.find((p) => p.os === process.platform && p.cpu === process.arch);
  if (!here) {
    throw new Error(
      `msgmock has no binary for ${process.platform}-${process.arch}; it is built for ` +
        platforms.map((p) => `${p.os}-${p.cpu}`).join(', ') +
        '. From a clone of msgmock, build one (go build ./cmd/msgmock) and set MSGMOCK_BINARY to its path.',
    );
  }
  let pkgDir: string;
  try {
    pkgDir = dirname(require.resolve(`${here.pkg}/package.json`));
  } catch {
    const other = platforms.find((p) => p !== here && isInstalled(p.pkg));
    throw new Error(
      `the package "${here.pkg}" is not installed, and msgmock needs it on ${process.platform}-${process.arch}. ` +
        (other
          ? `"${other.pkg}" is there instead: node_modules was installed on another platform ` +
            '(copied into a container, or shared between Windows and WSL); run npm install where msgmock runs. '
          : `It is one of msgmock's optionalDependencies: install without --no-optional or --omit=optional, ` +
            `or add it yourself: npm install ${here.pkg}. `) +
        'Or set MSGMOCK_BINARY to a msgmock binary.',
    );
  }
  const bin = join(pkgDir, here.binary);
  if (!existsSync(bin)) {
    throw new Error(`the package "${here.pkg}" is installed at ${pkgDir} but holds no ${here.binary}; reinstall it`);
  }
  return bin;
}

function isInstalled(pkg: string): boolean {
  try {
    require.resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
}
