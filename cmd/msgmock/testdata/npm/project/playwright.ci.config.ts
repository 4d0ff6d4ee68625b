// The README's playwright.config.ts, run here on Debian's Chromium (no
// browser download) with a report the Go test reads.
import { defineConfig } from '@playwright/test';
import base from './playwright.config';

export default defineConfig({
  ...base,
  workers: 1,
  reporter: [['list'], ['json', { outputFile: 'playwright-report.json' }]],
  use: {
    ...base.use,
    launchOptions: {
      executablePath: process.env.MSGMOCK_CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
});
