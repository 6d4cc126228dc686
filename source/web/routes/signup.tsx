import type {FastifyInstance, FastifyReply, FastifyRequest} from 'fastify';
import {welcomeMessage} from '../../core/accounts.js';
import {isOrgError} from '../../core/errors.js';
import {pendingSignupMethod, startSignup, verifySignup} from '../../core/signup.js';
import {signupOpen} from '../../core/signup-domains.js';
import {WelcomePage} from '../pages/invite.js';
import {SignupCodePage, SignupPasswordPage, SignupStartPage, type SignupValues} from '../pages/signup.js';
import {field, statusOf, type Site} from '../site.js';
import {isSamlSignup, startSignupSignIn} from '../../core/saml.js';
import {samlLoginPath} from './saml.js';

/**
 * Self sign-up in three pages on the core's startSignup and verifySignup (the same operations as
 * `orgctl signup` and the console): e-mail and username, then the mailed code, then the password.
 * The answer to the first page is the same whether or not the account exists: the core sees to it.
 */
export function signupRoutes(app: FastifyInstance, site: Site): void {
	/**
	 * A tenant named by the visitor (the sign-up link's ?tenant=, then the forms' hidden field) is
	 * kept only when it is a tenant with sign-up open: otherwise it is as if none was named, so no
	 * page shows text of the visitor's choosing in its header nor tells which tenants exist.
	 */
	const openTenant = (request: FastifyRequest, name: unknown): string | undefined =>
		typeof name === 'string' && name !== '' && name.length <= 63 && signupOpen(site.contextFor(request).store.read(), name) ? name : undefined;
	const values = (request: FastifyRequest): SignupValues => ({
		email: field(request.body, 'email')?.trim(),
		username: field(request.body, 'username')?.trim(),
		tenant: openTenant(request, field(request.body, 'tenant')),
		code: field(request.body, 'code')?.trim(),
	});
	const start = (reply: FastifyReply, v: SignupValues, status: number, error?: string) => site.render(reply, status, <SignupStartPage csrf={site.csrf(reply)} values={v} error={error} />);
	const code = (reply: FastifyReply, v: SignupValues, status: number, options: {error?: string; message?: string} = {}) =>
		site.render(reply, status, <SignupCodePage csrf={site.csrf(reply)} values={v} error={options.error} message={options.message} />);
	const password = (reply: FastifyReply, request: FastifyRequest, v: SignupValues, status: number, error?: string) =>
		site.render(reply, status, <SignupPasswordPage csrf={site.csrf(reply)} values={v} error={error} minLength={site.contextFor(request).store.read().settings.policy.minPasswordLength} />);

	app.get('/signup', site.page, async (request: FastifyRequest<{Querystring: {tenant?: string}}>, reply) => {
		return start(reply, {tenant: openTenant(request, request.query.tenant)}, 200);
	});

	app.post('/signup', site.post, async (request, reply) => {
		const v = values(request);
		const ctx = site.contextFor(request);
		if (isSamlSignup(ctx, v.email ?? '', v.tenant)) {
			// A single sign-on domain: the identity provider proves the address, no code is mailed.
			let requestId: string;
			try {
				requestId = await startSignupSignIn(ctx, {email: v.email ?? '', username: v.username ?? '', ...(v.tenant ? {tenant: v.tenant} : {})});
			} catch (error) {
				if (!isOrgError(error)) throw error;
				return start(reply, v, statusOf(error.kind), error.message);
			}
			return reply.redirect(samlLoginPath(requestId), 303);
		}
		let started: Awaited<ReturnType<typeof startSignup>>;
		try {
			started = await startSignup(site.contextFor(request), {email: v.email ?? '', username: v.username ?? '', ...(v.tenant ? {tenant: v.tenant} : {})});
		} catch (error) {
			if (!isOrgError(error)) throw error;
			return start(reply, v, statusOf(error.kind), error.message);
		}
		return code(reply, {email: started.email, tenant: v.tenant}, 200, {message: started.message});
	});

	/** The code page posts here: password accounts go on to choose a password; others finish now. */
	app.post('/signup/code', site.post, async (request, reply) => {
		const v = values(request);
		const ctx = site.contextFor(request);
		if (!v.code) return code(reply, v, 400, {error: 'Type the code from the mail.'});
		if (pendingSignupMethod(ctx, v.email ?? '', v.tenant) === 'password') return password(reply, request, v, 200);
		return finish(request, reply, v, undefined);
	});

	app.post('/signup/verify', site.post, async (request, reply) => {
		const v = values(request);
		const chosen = field(request.body, 'password') || undefined;
		if (chosen === undefined) return password(reply, request, v, 400, 'Choose a password.');
		if ((field(request.body, 'repeat') || undefined) !== chosen) return password(reply, request, v, 400, 'The two passwords differ; nothing was changed: type them again.');
		return finish(request, reply, v, chosen);
	});

	const finish = async (request: FastifyRequest, reply: FastifyReply, v: SignupValues, chosen: string | undefined) => {
		let actor: Awaited<ReturnType<typeof verifySignup>>;
		try {
			actor = await verifySignup(site.contextFor(request), {email: v.email ?? '', code: v.code ?? '', ...(chosen === undefined ? {} : {password: chosen}), ...(v.tenant ? {tenant: v.tenant} : {})});
		} catch (error) {
			if (!isOrgError(error)) throw error;
			// A password the policy refuses: choose again. Anything about the code: back to the code page, which offers to start again.
			if (error.kind === 'invalid' && chosen !== undefined) return password(reply, request, v, 400, error.message);
			return code(reply, {email: v.email, tenant: v.tenant}, statusOf(error.kind), {error: error.message});
		}
		return site.render(reply, 200, <WelcomePage message={welcomeMessage(actor.user, actor.tenant)} tenant={actor.tenant.name} />);
	};
}
