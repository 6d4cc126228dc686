import {defineConfig} from 'vitest/config';
import base from './vitest.config.js';

/**
 * The store's tests on PostgreSQL (`npm run test:postgres`, with ORGCTL_TEST_PG naming a server the
 * tests may create a database on; .ci/run starts a throwaway one): every test file that acts through
 * the store port, the command line or orgctl serve, on a schema of its own per test folder. Left out:
 * the file backend's own tests (lock, place, key file beside it, backups, file migrations, admin
 * check, the SIGKILL soak, the file's change signal and index) and the terminal and browser ones
 * (the real-IdP SAML end-to-end test included), which add time and no store paths. The SAML
 * replay tests and the credential attacks are in: a replay or a throttle is caught across hosts.
 */
export default defineConfig({
	test: {
		...base.test,
		include: [
			'test/postgres.test.ts',
			'test/accounts.test.ts',
			'test/invariants.test.ts',
			'test/invitations.test.ts',
			'test/mail.test.ts',
			'test/mailer-unusable.test.ts',
			'test/ownership.test.ts',
			'test/pam.test.ts',
			'test/projects-tokens.test.ts',
			'test/refusals-audited.test.ts',
			'test/server-settings.test.ts',
			'test/settings-refused.test.ts',
			'test/sso-settings.test.ts',
			'test/cli-settings.test.ts',
			'test/signup-domains.test.ts',
			'test/signup.test.ts',
			'test/tenants.test.ts',
			'test/user-admin.test.ts',
			'test/input.test.ts',
			'test/cli-account.test.ts',
			'test/cli-defects.test.ts',
			'test/cli-signup.test.ts',
			'test/cli-user-admin.test.ts',
			'test/invites-cli.test.ts',
			'test/ui/components.test.tsx',
			'test/ui/session-end.test.tsx',
			'test/credential-attacks.test.ts',
			'test/standing.test.ts',
			'test/bounded.test.ts',
			'test/web/http.test.ts',
			'test/web/attacks.test.ts',
			'test/web/saml-acs.test.ts',
		],
		env: {...base.test?.env, ORGCTL_TEST_STORE: 'postgres'},
	},
});
