import type {ComponentType} from 'react';
import type {Actor, Context} from '../../core/context.js';
import type {Database} from '../../core/model.js';
import {signupOpen} from '../../core/signup-domains.js';
import {AcceptInvitation} from './accept-invitation.js';
import {Signup} from './signup.js';
import {SsoLogin} from './sso-login.js';
import {ssoReady} from '../../core/saml.js';

/** What a screen opened from the sign-in screen gets. */
export type EntryScreenProps = {
	readonly ctx: Context;
	/** The tenant named with --tenant, if any. */
	readonly tenant: string | undefined;
	readonly width: number;
	readonly height: number;
	/**
	 * Signed in (e.g. an accepted invitation): the console keeps a session and opens, with `done`
	 * (the outcome and its orgctl command) on the status line. Without an actor: back to sign-in.
	 */
	readonly onDone: (actor?: Actor, done?: Outcome) => void;
	/** Puts a step's outcome (and its command) on the status line, e.g. "Code sent". */
	readonly notify: (outcome: Outcome & {readonly kind?: 'info' | 'success' | 'error'}) => void;
};

/** What a screen did, for the status line: the sentence, then the equivalent command. */
export type Outcome = {readonly text: string; readonly command?: string | undefined};

/** A choice under the sign-in form ("Accept invitation", "Sign up"). */
export type LoginEntry = {
	readonly id: string;
	readonly label: string;
	/** Whether the entry is offered, given the data and the tenant named with --tenant (if any). */
	readonly visible: (db: Database, tenant: string | undefined) => boolean;
	/** The screen it opens; until its issue lands, `unavailable` is shown instead. */
	readonly Screen?: ComponentType<EntryScreenProps>;
	readonly unavailable: string;
};

/** The choices under the sign-in form. Wire a screen by setting `Screen` (see source/README.md, "The console"). */
export const LOGIN_ENTRIES: readonly LoginEntry[] = [
	{
		id: 'sso',
		label: 'Single sign-on',
		// Offered once an identity provider is set (Server Settings > Single Sign-On).
		visible: db => ssoReady(db),
		Screen: SsoLogin,
		unavailable: 'Single sign-on is not set up on this server.',
	},
	{
		id: 'accept',
		label: 'Accept invitation',
		visible: () => true,
		Screen: AcceptInvitation,
		unavailable: 'Accepting an invitation in the console is not available yet; run `orgctl accept LINK` in a shell.',
	},
	{
		id: 'signup',
		label: 'Sign up',
		// Offered only where self sign-up is open: some tenant (or the one named) lists a domain.
		visible: (db, tenant) => signupOpen(db, tenant),
		Screen: Signup,
		unavailable: 'Signing up in the console is not available yet; run `orgctl signup EMAIL USERNAME` in a shell.',
	},
];
