import type {inspectInvitation} from '../../core/invitations.js';
import {Field, Form, MessagePage, Page} from './layout.js';

export type InvitationPreview = ReturnType<typeof inspectInvitation>;

type Props = {
	readonly invited: InvitationPreview;
	/** Where the form posts: the invitation's own path. */
	readonly action: string;
	readonly csrf: string;
	readonly error?: string | undefined;
	/** Single sign-on is set up, so a SAML invitation can be accepted here. */
	readonly ssoReady?: boolean;
};

/** `GET /invite/{id}.{secret}`: who invited you, to which organization, as what; then the step the method needs. */
export function InvitationPage({invited, action, csrf, error, ssoReady = false}: Props) {
	return (
		<Page title={`Join ${invited.tenant}`} tenant={invited.tenant}>
			<p>
				{invited.invitedBy} invited you to the organization <strong>{invited.tenant}</strong> as <strong>{invited.role}</strong>.
			</p>
			<dl>
				<dt>Username</dt>
				<dd>{invited.username}</dd>
				<dt>E-mail</dt>
				<dd>{invited.email}</dd>
				<dt>Role</dt>
				<dd>{invited.role}</dd>
				<dt>Link valid until</dt>
				<dd>{invited.expires.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}</dd>
			</dl>
			<MethodStep invited={invited} action={action} csrf={csrf} error={error} ssoReady={ssoReady} />
		</Page>
	);
}

function MethodStep({invited, action, csrf, error, ssoReady}: Props) {
	switch (invited.method) {
		case 'password':
			return (
				<Form action={action} csrf={csrf} submit="Create my account" error={error}>
					<p>Choose a password of at least {invited.minPasswordLength} characters.</p>
					{/* The username, for password managers: they save it with the new password. */}
					<Field label="Username" name="username" value={invited.username} autoComplete="username" readOnly />
					<Field label="Password" name="password" type="password" autoComplete="new-password" minLength={invited.minPasswordLength} />
					<Field label="Password again" name="repeat" type="password" autoComplete="new-password" minLength={invited.minPasswordLength} />
				</Form>
			);
		case 'pam':
			return (
				<Form action={action} csrf={csrf} submit="Confirm and create my account" error={error}>
					<p>
						You will sign in with the password of the system account <strong>{invited.username}</strong> on this server. Confirm the account is yours: type its password (it is checked
						through PAM and not stored).
					</p>
					<Field label="System username" name="username" value={invited.username} autoComplete="username" readOnly />
					<Field label="System password" name="password" type="password" autoComplete="current-password" />
				</Form>
			);
		case 'saml':
			if (ssoReady) {
				return (
					<Form action={action} csrf={csrf} submit="Continue with single sign-on" error={error}>
						<p>
							You will sign in through your organization&apos;s identity provider (single sign-on, SAML). Sign in there as <strong>{invited.email}</strong>: your account is made when the
							identity provider confirms that address.
						</p>
					</Form>
				);
			}
			return (
				<>
					{error ? (
						<p className="error" role="alert">
							{error}
						</p>
					) : null}
					<p>You will sign in through your organization&apos;s identity provider (single sign-on, SAML).</p>
					<p className="muted">
						Single sign-on is not set up on this server yet: it comes with the server&apos;s SAML configuration. Until then this invitation cannot be accepted here; ask {invited.invitedBy}
						{' '}when it is ready. The link stays valid until it expires.
					</p>
					<button type="button" disabled>
						Continue with single sign-on
					</button>
				</>
			);
	}
}

/** The account exists: what to do next, in the same words as `orgctl accept`. */
export function WelcomePage({message, tenant}: {readonly message: string; readonly tenant: string}) {
	return <MessagePage title="Your account is ready" message={message} tenant={tenant} />;
}
