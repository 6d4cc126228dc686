import type {FastifyInstance, FastifyReply, FastifyRequest} from 'fastify';
import {welcomeMessage} from '../../core/accounts.js';
import {isOrgError} from '../../core/errors.js';
import {completeSamlSignIn, confirmDeviceCode, inspectDeviceCode, samlLoginUrl, DEVICE_PATH, MAX_RESPONSE_BYTES, type DeviceLoginView, type SamlOutcome} from '../../core/saml.js';
import {spMetadataIn} from '../../core/sso-settings.js';
import {WelcomePage} from '../pages/invite.js';
import {MessagePage} from '../pages/layout.js';
import {DeviceCodePage, DeviceConfirmPage, DeviceDonePage, SamlRefusedPage} from '../pages/saml.js';
import {field, statusOf, type Site} from '../site.js';

/** The path a form of ours redirects to once it has made a sign-in request: it sends the browser to the IdP. */
export function samlLoginPath(requestId: string): string {
	return `/saml/login?request=${encodeURIComponent(requestId)}`;
}

/** A refusal of the SAML core as its page (403 unless the kind says otherwise), or undefined for other errors. */
export function samlRefusal(site: Site, reply: FastifyReply, error: unknown): FastifyReply | undefined {
	if (!isOrgError(error) || error.kind === 'store') return undefined;
	return site.render(reply, statusOf(error.kind), <SamlRefusedPage message={error.message} reason={error.code ?? error.kind} />);
}

/**
 * The service provider (DESIGN §5a): `GET /saml/metadata`, `GET /saml/login` (the Redirect binding
 * to the IdP), `POST /saml/acs` (the IdP's HTTP-POST), and the code pages of a terminal's sign-in
 * (`/login/device`). Every decision is the core's; a refusal is a page with one sentence.
 */
export function samlRoutes(app: FastifyInstance, site: Site): void {
	app.get('/saml/metadata', site.page, async (request, reply) => {
		// Public by nature: what the IdP's admin loads. It holds our certificate, never a secret.
		const metadata = spMetadataIn(site.contextFor(request).store.read());
		if (!metadata) return site.render(reply, 404, <MessagePage title="No single sign-on here" message="Single sign-on is not set up on this server yet, so there is no service provider metadata." />);
		return reply.type('application/samlmetadata+xml; charset=utf-8').header('cache-control', 'no-cache').send(metadata);
	});

	app.get('/saml/login', site.page, async (request: FastifyRequest<{Querystring: {request?: unknown}}>, reply) => {
		const id = typeof request.query.request === 'string' ? request.query.request : '';
		if (!id) return site.render(reply, 400, <MessagePage title="Nothing to sign in to" message="Single sign-on starts from your invitation link, the sign-up page, or the code your terminal shows." />);
		let url: string;
		try {
			url = await samlLoginUrl(site.contextFor(request), id);
		} catch (error) {
			const page = samlRefusal(site, reply, error);
			if (page) return page;
			throw error;
		}
		return reply.header('cache-control', 'no-store').redirect(url, 302);
	});

	// The IdP's page posts here from its own site: no CSRF token of ours (the signed InResponseTo binds the answer to our request), a larger body.
	app.post('/saml/acs', {...site.foreignPost, bodyLimit: MAX_RESPONSE_BYTES + 4096, config: {accepts: MAX_RESPONSE_BYTES}}, async (request, reply) => {
		const ctx = site.contextFor(request);
		let outcome: SamlOutcome;
		try {
			outcome = await completeSamlSignIn(ctx, field(request.body, 'SAMLResponse'));
		} catch (error) {
			const page = samlRefusal(site, reply, error);
			if (page) return page;
			throw error;
		}
		switch (outcome.kind) {
			case 'invitation':
			case 'signup':
				return site.render(reply, 200, <WelcomePage message={welcomeMessage(outcome.user, outcome.tenant)} tenant={outcome.tenant.name} />);
			case 'device':
				return site.render(reply, 200, <DeviceDonePage username={outcome.user.username} host={outcome.host} />);
		}
	});

	app.get(DEVICE_PATH, site.page, async (_request, reply) => site.render(reply, 200, <DeviceCodePage csrf={site.csrf(reply)} />));

	app.post(DEVICE_PATH, site.post, async (request, reply) => {
		const ctx = site.contextFor(request);
		const code = field(request.body, 'code') ?? '';
		let view: DeviceLoginView;
		try {
			view = await inspectDeviceCode(ctx, code);
		} catch (error) {
			if (!isOrgError(error) || error.kind === 'store') throw error;
			return site.render(reply, statusOf(error.kind), <DeviceCodePage csrf={site.csrf(reply)} error={error.message} code={code} />);
		}
		site.formsTo(reply, ctx.store.read());
		return site.render(reply, 200, <DeviceConfirmPage csrf={site.csrf(reply)} code={code} view={view} now={ctx.now()} />);
	});

	app.post(`${DEVICE_PATH}/confirm`, site.post, async (request, reply) => {
		let requestId: string;
		try {
			requestId = await confirmDeviceCode(site.contextFor(request), field(request.body, 'code') ?? '');
		} catch (error) {
			const page = samlRefusal(site, reply, error);
			if (page) return page;
			throw error;
		}
		return reply.redirect(samlLoginPath(requestId), 303);
	});
}
