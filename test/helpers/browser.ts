import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import puppeteer, {type Browser} from 'puppeteer-core';

/** Debian's chromium (.ci/run installs it), driven by puppeteer-core: no browser download. */
export const CHROMIUM = process.env['ORGCTL_CHROMIUM'] ?? '/usr/bin/chromium';

/** A real headless Chromium with a fresh profile; `close` removes the profile too. */
export async function launchBrowser(): Promise<{browser: Browser; close: () => Promise<void>}> {
	const profile = mkdtempSync(join(tmpdir(), 'orgctl-chromium-'));
	const browser = await puppeteer.launch({
		executablePath: CHROMIUM,
		// --no-sandbox: CI runs as root. The throwaway TLS certificates of the tests are self-signed.
		args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`],
		acceptInsecureCerts: true,
		timeout: 60_000,
	});
	return {
		browser,
		close: async () => {
			await browser.close().catch(() => undefined);
			rmSync(profile, {recursive: true, force: true});
		},
	};
}
