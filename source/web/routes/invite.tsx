import type {FastifyInstance, FastifyReply, FastifyRequest} from 'fastify';
import {welcomeMessage} from '../../core/accounts.js';
import type {Context} from '../../core/context.js';
import {isOrgError} from '../../core/errors.js';
import {acceptInvitation, inspectInvitation, inspectInvitationAudited} from '../../core/invitations.js';
import {ssoReady, startInvitationSignIn} from '../../core/saml.js';
import {parseInvitationToken} from '../../core/invitations/link.js';
import {DeadLinkPage, DEAD_LINK_PAGES, isDeadLinkCode} from '../pages/dead-link.js';
import {InvitationPage, WelcomePage, type InvitationPreview} from '../pages/invite.js';
import {MessagePage} from '../pages/layout.js';
import {field, statusOf, type Site} from '../site.js';
import {samlLoginPath} from './saml.js';

type InviteRequest = FastifyRequest<{Params: {token: string}}>;

/**
 * `GET /invite/{id}.{secret}` shows the invitation and the step its method needs; `POST` accepts it
 * through the core's acceptInvitation, the same operation as `orgctl accept` and the console.
 */
export function inviteRoutes(app: FastifyInstance, site: Site): void {
	/** A dead link's page, or undefined when the error is about something else (a short password). */
	const deadLink = (reply: FastifyReply, error: unknown) => {
		if (!isOrgError(error) || !isDeadLinkCode(error.code)) return undefined;
		return site.render(reply, DEAD_LINK_PAGES[error.code].status, <DeadLinkPage code={error.code} message={error.message} />);
	};
	const form = (reply: FastifyReply, request: InviteRequest, invited: InvitationPreview, status: number, error?: string) => {
		const db = site.contextFor(request).store.read();
		const sso = invited.method === 'saml' && ssoReady(db);
		if (sso) site.formsTo(reply, db);
		return site.render(reply, status, <InvitationPage invited={invited} action={`/invite/${request.params.token}`} csrf={site.csrf(reply)} error={error} ssoReady={sso} />);
	};

	app.get('/invite/:token', site.page, async (request: InviteRequest, reply) => {
		const ctx = site.contextFor(request);
		let invited: InvitationPreview;
		try {
			// Audited like `orgctl accept`: a dead or forged link leaves a refused event with the client's address.
			invited = await inspectInvitationAudited(ctx, request.params.token);
		} catch (error) {
			const page = deadLink(reply, error);
			if (page) return page;
			throw error;
		}
		return form(reply, request, invited, 200);
	});

	app.post('/invite/:token', site.post, async (request: InviteRequest, reply) => {
		const ctx = site.contextFor(request);
		const token = request.params.token;
		let invited: InvitationPreview;
		try {
			invited = await inspectInvitationAudited(ctx, token);
		} catch (error) {
			const page = deadLink(reply, error);
			if (page) return page;
			throw error;
		}
		if (invited.method === 'saml') {
			// The identity provider's word accepts it: a request bound to this invitation, then the IdP (core/saml/sign-in.ts).
			let requestId: string;
			try {
				requestId = await startInvitationSignIn(ctx, parseInvitationToken(token)!.id);
			} catch (error) {
				if (!isOrgError(error)) throw error;
				return form(reply, request, invited, statusOf(error.kind), error.message);
			}
			return reply.redirect(samlLoginPath(requestId), 303);
		}
		const password = field(request.body, 'password') || undefined;
		if (invited.method === 'password' && (field(request.body, 'repeat') || undefined) !== password) {
			return form(reply, request, invited, 400, 'The two passwords differ; nothing was changed: type them again.');
		}
		let accepted: Awaited<ReturnType<typeof acceptInvitation>>;
		try {
			accepted = await acceptInvitation(ctx, {link: token, ...(password === undefined ? {} : {password})});
		} catch (error) {
			if (!isOrgError(error)) throw error;
			return deadLink(reply, error) ?? retry(ctx, reply, request, token, error.message, statusOf(error.kind));
		}
		return site.render(reply, 200, <WelcomePage message={welcomeMessage(accepted.user, accepted.tenant)} tenant={accepted.tenant.name} />);
	});

	/** After a refused try (a short or wrong password, a lock-out): the form again, with the reason. */
	const retry = (ctx: Context, reply: FastifyReply, request: InviteRequest, token: string, message: string, status: number) => {
		try {
			return form(reply, request, inspectInvitation(ctx, token), status, message);
		} catch (error) {
			return deadLink(reply, error) ?? site.render(reply, status, <MessagePage title="The invitation was not accepted" message={message} />);
		}
	};
}
