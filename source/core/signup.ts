import {randomInt} from 'node:crypto';
import {ANONYMOUS, assertAccountFree, checkPassword, checkUsername, newUser} from './accounts.js';
import {checked, perform, recordRefusal, refuse, type AuditActor} from './audit.js';
import {actorAsNow, type Actor, type Context} from './context.js';
import {parseAddress, type Address} from './email.js';
import {authFailed, invalid, isOrgError, refused, unavailable, type OrgError} from './errors.js';
import {timingSafeEqual} from 'node:crypto';
import {newId, newSecret, sha256} from './ids.js';
import {escapeHtml} from './mail.js';
import type {AuthMethod, Database, MailStatus, PendingSignup, SignupDomain, Tenant} from './model.js';
import {deliverOutbox, enqueueMail} from './outbox.js';
import {tenantsForSignup} from './signup-domains.js';

/**
 * How a sign-up code behaves: 8 digits, valid 8 hours, 5 tries, one new code per address per minute.
 * And what anyone on the internet can make the server do with it: at most `mailsPerHour` sign-up
 * mails in all and `mailsPerDomainPerHour` to one domain, at most `maxPending` sign-ups waiting
 * (the oldest goes first), and at most `failedCodesPerDomainPerHour` wrong codes for the addresses
 * of one domain, whichever address and sign-up they name (so guessing is bounded overall, not
 * only per code: about 2,400 guesses a day at 10^8 codes).
 */
export const SIGNUP = {
	codeDigits: 8,
	lifetimeSeconds: 8 * 3600,
	maxAttempts: 5,
	resendAfterSeconds: 60,
	mailsPerHour: 200,
	mailsPerDomainPerHour: 50,
	maxPending: 1_000,
	failedCodesPerDomainPerHour: 100,
} as const;

/** The throttle entry counting one kind of use in the current hour (pruned a day after its last use, core/housekeeping.ts). */
function hourKey(kind: 'signup-mail' | 'signup-code', scope: string, now: Date): string {
	// A long domain by its hash: a throttle key holds 160 characters.
	return `${kind}:${scope.length > 100 ? sha256(scope) : scope}:${now.toISOString().slice(0, 13)}`;
}

function hourCount(db: Database, key: string): number {
	return db.throttles.find(t => t.key === key)?.failures ?? 0;
}

function countHour(db: Database, key: string, now: Date): void {
	const entry = db.throttles.find(t => t.key === key);
	if (entry) {
		entry.failures += 1;
		entry.last = now.toISOString();
		db.throttles = [...db.throttles];
	} else db.throttles = [...db.throttles, {key, failures: 1, lockedUntil: null, last: now.toISOString()}];
}

/** Gives back one use of an hour's count (a reserved try that proved right). */
function uncountHour(db: Database, key: string): void {
	const entry = db.throttles.find(t => t.key === key);
	if (entry && entry.failures > 0) {
		entry.failures -= 1;
		db.throttles = [...db.throttles];
	}
}

/**
 * Keeps the sign-ups waiting (mailed codes, and SAML sign-ups gone to the IdP) under
 * SIGNUP.maxPending with room for one more: the oldest of either kind goes first (a mailed code's
 * mail with it; a SAML request is burned, so its answer is refused). Inside the caller's transaction.
 */
export function makeRoomForSignup(db: Database, now: Date): void {
	const iso = now.toISOString();
	const saml = db.samlRequests.filter(r => r.purpose.kind === 'signup' && r.state === 'pending' && r.expires > iso);
	const excess = db.pendingSignups.length + saml.length - SIGNUP.maxPending + 1;
	if (excess <= 0) return;
	const oldest = [...db.pendingSignups.map(p => ({created: p.created, id: p.id, kind: 'mail' as const})), ...saml.map(r => ({created: r.created, id: r.id, kind: 'saml' as const}))]
		.sort((a, b) => a.created.localeCompare(b.created))
		.slice(0, excess);
	const gone = new Set(oldest.filter(o => o.kind === 'mail').map(o => o.id));
	const burned = new Set(oldest.filter(o => o.kind === 'saml').map(o => o.id));
	if (gone.size > 0) {
		db.pendingSignups = db.pendingSignups.filter(p => !gone.has(p.id));
		db.outbox = db.outbox.filter(m => !(m.kind === 'signup-code' && m.ref !== null && gone.has(m.ref)));
	}
	if (burned.size > 0) db.samlRequests = db.samlRequests.map(r => (burned.has(r.id) ? {...r, state: 'burned' as const} : r));
}

/** What startSignup answers; the same whether or not an account already exists. */
export type SignupStarted = {
	readonly email: string;
	readonly username: string;
	readonly tenant: string;
	readonly expires: string;
	readonly mail: MailStatus;
	/** One sentence for the person signing up. */
	readonly message: string;
};

/** Compares a code's MAC with the stored one in constant time. */
function macMatches(ctx: Context, text: string, stored: string): boolean {
	const presented = Buffer.from(ctx.secrets.mac(text), 'hex');
	const expected = Buffer.from(stored, 'hex');
	return presented.length === expected.length && timingSafeEqual(presented, expected);
}

/**
 * The code is bound to its sign-up, and keyed with the key file: eight digits are too few to keep
 * from a brute force if only a plain hash were stored.
 */
function codeSecret(pendingId: string, code: string): string {
	return `signup:${pendingId}:${code}`;
}

/** Digits only: people paste `1234 5678` or `1234-5678`. */
function cleanCode(code: string): string {
	return code.replace(/[\s-]/g, '');
}

function newCode(): string {
	return String(randomInt(0, 10 ** SIGNUP.codeDigits)).padStart(SIGNUP.codeDigits, '0');
}

/** The answer for a closed domain, whether or not a tenant was named or exists: no tenant's name is told to whoever asks. */
function closed(address: Address): OrgError {
	return refused(`Self sign-up is not open for addresses at ${address.domain}; ask an admin for an invitation.`);
}

/** Which tenant a sign-up goes to: the one named, or the only one listing the address's domain. */
function signupTenant(db: Database, address: Address, tenantName?: string): {tenant: Tenant; domain: SignupDomain} {
	if (tenantName) {
		const tenant = db.tenants.find(t => t.name === tenantName);
		const domain = tenant && db.signupDomains.find(d => d.tenantId === tenant.id && d.domain === address.domain);
		if (!tenant || !domain) throw closed(address);
		return {tenant, domain};
	}
	const names = tenantsForSignup(db, address.address);
	if (names.length === 0) throw closed(address);
	if (names.length > 1) throw invalid(`Addresses at ${address.domain} can sign up in more than one organization here: use the sign-up link your organization gave you (it names the organization), or --tenant NAME.`);
	return signupTenant(db, address, names[0]);
}

function mailFor(kind: 'code' | 'taken', fields: {tenant: string; username: string; email: string; code?: string; why?: string}): {subject: string; text: string} {
	const ignore = 'If you did not ask for this, ignore this mail: nothing happens without the code.';
	if (kind === 'code') {
		return {
			// Never the code in the subject: subjects are stored unsealed in the outbox and shown in previews.
			subject: `Your sign-up code for ${fields.tenant}`,
			text: [
				`Someone (we hope you) asked to sign up as ${fields.username} in ${fields.tenant} with this address.`,
				'',
				`Your code: ${fields.code}`,
				'',
				`It works once and expires in ${SIGNUP.lifetimeSeconds / 3600} hours. Type it on the sign-up screen, or run:`,
				`  orgctl signup verify ${fields.email} ${fields.code} --tenant ${fields.tenant}`,
				'',
				ignore,
			].join('\n'),
		};
	}
	return {
		subject: `About your sign-up in ${fields.tenant}`,
		text: [
			`Someone (we hope you) asked to sign up as ${fields.username} in ${fields.tenant} with this address, but no account was created:`,
			`${fields.why}`,
			'',
			'If the account is yours, sign in (an admin can reset a lost password); otherwise sign up again with another username.',
			ignore,
		].join('\n'),
	};
}

/**
 * Starts a self sign-up: when the address's domain is listed exactly, keeps a pending sign-up and
 * mails its code. The answer never says whether the username or address is taken: in that case
 * the mail says so instead of carrying a code, and the pending sign-up holds a code nobody knows,
 * so everything else (the answer, the resend pause, the mail) looks the same.
 */
export async function startSignup(ctx: Context, input: {email: string; username: string; tenant?: string}): Promise<SignupStarted> {
	const address = parseAddress(input.email);
	const username = checkUsername(input.username);
	const {tenant} = await checked(ctx, {label: address.address, tenantId: null}, 'signup.start', `${username} <${address.address}>`, db => signupTenant(db, address, input.tenant));
	const who: AuditActor = {label: address.address, tenantId: tenant.id};
	const started = await perform(ctx, who, 'signup.start', `${username} <${address.address}>`, db => {
		if (!db.settings.smtp) {
			throw unavailable('Self sign-up mails you a code, but this server has no mail (SMTP) set up yet; ask an admin to set it up, or for an invitation.');
		}
		const {domain} = signupTenant(db, address, tenant.name);
		const now = ctx.now();
		const email = address.address.toLowerCase();
		const previous = db.pendingSignups.find(p => p.tenantId === tenant.id && p.email.toLowerCase() === email);
		if (previous) {
			const wait = SIGNUP.resendAfterSeconds - Math.floor((now.getTime() - new Date(previous.created).getTime()) / 1000);
			if (wait > 0) throw refused(`A code was sent to ${address.address} moments ago; check your mail, or ask for a new one in ${wait} seconds.`);
			db.pendingSignups = db.pendingSignups.filter(p => p.id !== previous.id);
			db.outbox = db.outbox.filter(m => !(m.kind === 'signup-code' && m.ref === previous.id));
		}
		// What anyone can make the server mail, and keep waiting, is bounded.
		const mailKeys = [hourKey('signup-mail', '*', now), hourKey('signup-mail', address.domain, now)];
		if (hourCount(db, mailKeys[0]!) >= SIGNUP.mailsPerHour || hourCount(db, mailKeys[1]!) >= SIGNUP.mailsPerDomainPerHour) {
			throw unavailable('This server has sent as many sign-up mails as it sends in an hour; try again later, or ask an admin for an invitation.');
		}
		for (const key of mailKeys) countHour(db, key, now);
		makeRoomForSignup(db, now);
		let taken: string | undefined;
		try {
			assertAccountFree(db, tenant.id, username, address.address, {viewer: ANONYMOUS});
		} catch (error) {
			if (!isOrgError(error)) throw error;
			taken = error.message;
		}
		const id = newId();
		const code = newCode();
		const pending: PendingSignup = {
			id,
			tenantId: tenant.id,
			domainId: domain.id,
			email: address.address,
			username,
			// When taken, the code on record is one nobody was sent: it can never be verified.
			codeHash: ctx.secrets.mac(codeSecret(id, taken ? newSecret() : code)),
			attempts: 0,
			created: now.toISOString(),
			expires: new Date(now.getTime() + SIGNUP.lifetimeSeconds * 1000).toISOString(),
			mail: {state: 'queued', at: now.toISOString()},
			revision: 1,
		};
		db.pendingSignups.push(pending);
		const content = mailFor(taken ? 'taken' : 'code', {tenant: tenant.name, username, email: address.address, code, why: taken});
		const item = enqueueMail(db, ctx, {
			kind: 'signup-code',
			ref: id,
			to: address.address,
			subject: content.subject,
			text: content.text,
			html: `<pre>${escapeHtml(content.text)}</pre>`,
		});
		return {pending, item};
	});
	const report = await deliverOutbox(ctx, undefined, {ids: [started.item.id]});
	const mail = report.results[0]?.status ?? started.pending.mail!;
	return {
		email: address.address,
		username,
		tenant: tenant.name,
		expires: started.pending.expires,
		mail,
		message: signupMessage(address.address, mail),
	};
}

function signupMessage(email: string, mail: MailStatus): string {
	switch (mail.state) {
		case 'sent':
		case 'queued':
			return `Check the mailbox of ${email}: a code is on its way; it expires in ${SIGNUP.lifetimeSeconds / 3600} hours.`;
		// The mail server's reply is not for whoever signs up (it tells addresses the relay refuses apart): it is in the audit (mail.deliver) and the sign-up's mail status.
		case 'retrying':
			return `The mail to ${email} is delayed; it will be retried, and the code expires in ${SIGNUP.lifetimeSeconds / 3600} hours.`;
		case 'failed':
		case 'not-sent':
			return `The mail to ${email} could not be sent; try again later or ask an admin.`;
	}
}

/** Finds the waiting sign-up for an address: in the named tenant, or the only one waiting. */
function findPending(db: Database, email: string, tenantName?: string): PendingSignup | undefined {
	const tenant = tenantName ? db.tenants.find(t => t.name === tenantName) : undefined;
	// A tenant that does not exist has no sign-up waiting, like any other: the answer names no tenant.
	if (tenantName && !tenant) return undefined;
	const matches = db.pendingSignups.filter(p => p.email.toLowerCase() === email.toLowerCase() && (!tenant || p.tenantId === tenant.id));
	if (matches.length > 1) throw invalid(`${email} is signing up in more than one organization here: use the sign-up link your organization gave you, or --tenant NAME.`);
	return matches[0];
}

/**
 * Completes a self sign-up with the mailed code: creates the user with the domain's role and
 * method (password users choose a password here). Wrong codes count against 5 tries; an expired,
 * used or exhausted code is refused and the sign-up must start again.
 */
export async function verifySignup(ctx: Context, input: {email: string; code: string; password?: string; tenant?: string}): Promise<Actor> {
	const address = parseAddress(input.email);
	const code = cleanCode(input.code);
	const db = ctx.store.read();
	const pending = findPending(db, address.address, input.tenant);
	const who: AuditActor = {label: address.address, tenantId: pending?.tenantId ?? null};
	// A spent try is counted in the same transaction as the refusal's audit.
	const fail = (message: string, change?: (d: Database) => void): Promise<never> => refuse(ctx, who, 'signup.verify', address.address, authFailed(message), change);
	if (!pending) return fail(`No sign-up is waiting for ${address.address}: its code was used already, or never sent; start again with orgctl signup.`);
	if (new Date(pending.expires) <= ctx.now()) {
		return fail(`The code for ${address.address} has expired (codes last ${SIGNUP.lifetimeSeconds / 3600} hours); start the sign-up again.`, d => {
			d.pendingSignups = d.pendingSignups.filter(p => p.id !== pending.id);
		});
	}
	const domain = db.signupDomains.find(d => d.id === pending.domainId);
	if (!domain) return fail(`Self sign-up for ${address.domain} has been closed meanwhile; ask an admin for an invitation.`);
	// The password is judged before the code, so its answer cannot tell a right code from a wrong one.
	let passwordHash: string | null = null;
	if (domain.method === 'password') {
		if (input.password === undefined) throw invalid('Choose a password for the new account (orgctl reads it with --password-stdin).');
		checkPassword(input.password, db.settings.policy.minPasswordLength);
	} else if (input.password !== undefined) {
		throw invalid(`Accounts at ${domain.domain} sign in with ${domain.method.toUpperCase()}, so they have no orgctl password; leave it out.`);
	}
	// The try is reserved (counted as wrong, for the address and the domain's hour) in one
	// transaction before the code is compared, as a login's is: parallel guesses get exactly the
	// tries there are (red team 10-14 #11). A right code gives the domain's count back.
	const failedKey = hourKey('signup-code', address.domain, ctx.now());
	const reserved = await ctx.store.transact((d): {error: Error} | {left: number} => {
		const current = d.pendingSignups.find(p => p.id === pending.id && p.codeHash === pending.codeHash);
		let error: Error | undefined;
		if (!current) error = authFailed(`No sign-up is waiting for ${address.address}: its code was used already, or never sent; start again with orgctl signup.`);
		else if (hourCount(d, failedKey) >= SIGNUP.failedCodesPerDomainPerHour) error = authFailed(`Too many wrong sign-up codes were typed for addresses at ${address.domain} in the last hour; try again later.`);
		else if (current.attempts >= SIGNUP.maxAttempts) {
			error = authFailed(`Too many wrong codes for ${address.address}; start the sign-up again for a new code.`);
			d.pendingSignups = d.pendingSignups.filter(p => p.id !== current.id);
		}
		if (error || !current) {
			recordRefusal(d, ctx, who, 'signup.verify', address.address, error);
			return {error: error!};
		}
		current.attempts += 1;
		d.pendingSignups = [...d.pendingSignups];
		countHour(d, failedKey, ctx.now());
		return {left: SIGNUP.maxAttempts - current.attempts};
	});
	if ('error' in reserved) throw reserved.error;
	if (!/^\d+$/.test(code) || !macMatches(ctx, codeSecret(pending.id, code), pending.codeHash)) {
		const {left} = reserved;
		if (left <= 0) {
			return fail(`Too many wrong codes for ${address.address}; start the sign-up again for a new code.`, d => {
				d.pendingSignups = d.pendingSignups.filter(p => p.id !== pending.id);
			});
		}
		return fail(`The code is wrong; ${left} ${left === 1 ? 'try' : 'tries'} left.`);
	}
	if (input.password !== undefined) passwordHash = await ctx.hasher.hash(input.password);
	return perform(ctx, who, 'signup.verify', `${pending.username} <${address.address}>`, d => {
		// Checked again under the lock: a parallel verify may have used the code meanwhile.
		const current = d.pendingSignups.find(p => p.id === pending.id && p.codeHash === pending.codeHash);
		if (!current) throw authFailed(`No sign-up is waiting for ${address.address}: its code was used already; sign in instead.`);
		uncountHour(d, failedKey);
		const currentDomain = d.signupDomains.find(x => x.id === current.domainId);
		if (!currentDomain) throw refused(`Self sign-up for ${address.domain} has been closed meanwhile; ask an admin for an invitation.`);
		assertAccountFree(d, current.tenantId, current.username, current.email, {viewer: ANONYMOUS});
		const user = newUser(ctx, {
			tenantId: current.tenantId,
			username: current.username,
			email: current.email,
			role: currentDomain.role,
			method: currentDomain.method,
			passwordHash: currentDomain.method === 'password' ? passwordHash : null,
		});
		if (currentDomain.method === 'password' && !passwordHash) throw invalid('Choose a password for the new account.');
		d.users.push(user);
		d.pendingSignups = d.pendingSignups.filter(p => p.id !== current.id);
		d.outbox = d.outbox.filter(m => !(m.kind === 'signup-code' && m.ref === current.id));
		const tenant = d.tenants.find(t => t.id === user.tenantId)!;
		return actorAsNow(user, tenant);
	});
}

/**
 * How the account a waiting sign-up would create signs in, so a screen or the CLI knows whether
 * to ask for a password. Undefined when nothing waits (the verify then says why).
 */
export function pendingSignupMethod(ctx: Context, email: string, tenant?: string): AuthMethod | undefined {
	const db = ctx.store.read();
	let pending: PendingSignup | undefined;
	try {
		pending = findPending(db, parseAddress(email).address, tenant);
	} catch {
		return undefined;
	}
	return db.signupDomains.find(d => d.id === pending?.domainId)?.method;
}
