import {authorize, checked, perform, refuse} from './audit.js';
import {inert} from './inert.js';
import {touch} from './accounts.js';
import {certificateFacts, certificateWarning, isCurrent, parseCertificate, type CertificateFacts} from './certificates.js';
import type {Actor, Context} from './context.js';
import {conflict, invalid} from './errors.js';
import {checkEntityId, checkHttpUrl, METADATA_MAX_BYTES, NAMEID_EMAIL, NAMEID_UNSPECIFIED, parseIdpMetadata, serviceProviderMetadata, type IdpMetadata} from './saml-metadata.js';
import {SSO_BINDINGS, SSO_MATCH_ATTRIBUTES, type Database, type SamlIdp, type SsoSettings} from './model.js';

/**
 * Single sign-on settings (SAML 2.0), stored and checked here; the sign-in itself (orgctl serve's
 * /saml/login and /saml/acs) builds on them. Superusers only; every change and refusal is audited.
 */

/** Our SAML certificate lasts this long; it is made once, with the first SSO setting. */
export const SP_CERTIFICATE_DAYS = 3650;

/** Where the IdP finds us: both follow from the public URL, where `orgctl serve` answers. */
export function spEndpoints(publicUrl: string): {readonly entityId: string; readonly acsUrl: string; readonly metadataUrl: string} {
	const base = publicUrl.replace(/\/+$/, '');
	return {entityId: `${base}/saml/metadata`, acsUrl: `${base}/saml/acs`, metadataUrl: `${base}/saml/metadata`};
}

export type MatchAttribute = SsoSettings['matchAttribute'];

/** How each match attribute reads to people. */
export const MATCH_ATTRIBUTE_NAMES: Readonly<Record<MatchAttribute, string>> = {nameid: 'NameID (e-mail format)', email: 'the email attribute'};

export type SsoView = {
	readonly idp: (Omit<SamlIdp, 'certificates'> & {readonly certificates: readonly CertificateFacts[]}) | null;
	readonly matchAttribute: MatchAttribute;
	readonly sp: {
		readonly entityId: string;
		readonly acsUrl: string;
		/** Our signing certificate; null until the first SSO setting makes the key pair. */
		readonly certificate: CertificateFacts | null;
		/** Our metadata for the IdP; null until the key pair exists. */
		readonly metadata: string | null;
	};
	/** Sentences about what needs attention (a certificate expiring soon, no IdP yet). */
	readonly warnings: readonly string[];
};

/** Our SP metadata for the IdP (public: `GET /saml/metadata` serves it to anyone), or null until our key pair exists. */
export function spMetadataIn(db: Database): string | null {
	const {sso, publicUrl} = db.settings;
	if (!sso.sp) return null;
	const endpoints = spEndpoints(publicUrl);
	return serviceProviderMetadata({entityId: endpoints.entityId, acsUrl: endpoints.acsUrl, certificatePem: sso.sp.certificate, nameIdFormat: nameIdFormat(sso.matchAttribute)});
}

/** The Single Sign-On settings as the console draws them, from data already read (superusers only). */
export function ssoViewIn(ctx: Context, db: Database, actor: Actor): SsoView {
	authorize(actor, 'sso.manage');
	const {sso, publicUrl} = db.settings;
	const now = ctx.now();
	const endpoints = spEndpoints(publicUrl);
	const facts = (pem: string) => {
		const cert = parseCertificate(pem);
		return cert ? certificateFacts(cert, now) : undefined;
	};
	const idpCertificates = sso.idp ? sso.idp.certificates.map(facts).filter(f => f !== undefined) : [];
	const spCertificate = sso.sp ? (facts(sso.sp.certificate) ?? null) : null;
	const warnings = [
		...idpCertificates.map(cert => certificateWarning(`The IdP signing certificate ${cert.subject}`, cert)),
		spCertificate ? certificateWarning('Our SAML certificate', spCertificate) : undefined,
	].filter(warning => warning !== undefined);
	return {
		idp: sso.idp ? {...sso.idp, certificates: idpCertificates} : null,
		matchAttribute: sso.matchAttribute,
		sp: {
			entityId: endpoints.entityId,
			acsUrl: endpoints.acsUrl,
			certificate: spCertificate,
			metadata: spMetadataIn(db),
		},
		warnings,
	};
}

/** `orgctl settings sso show`: a refusal is audited. */
export async function showSso(ctx: Context, actor: Actor): Promise<SsoView> {
	return checked(ctx, actor, 'settings.sso.show', 'sso', db => ssoViewIn(ctx, db, actor));
}

function nameIdFormat(match: MatchAttribute): string {
	return match === 'nameid' ? NAMEID_EMAIL : NAMEID_UNSPECIFIED;
}

export function parseMatchAttribute(text: string): MatchAttribute {
	const value = text.trim().toLowerCase();
	if (!(SSO_MATCH_ATTRIBUTES as readonly string[]).includes(value)) throw invalid(`Users are matched by nameid or email, not "${inert(text)}".`);
	return value as MatchAttribute;
}

/** What a save returns: the settings as now shown, and what to look at (an expired certificate left out, one expiring soon). */
export type SsoSaved = {readonly view: SsoView; readonly notes: readonly string[]};

/**
 * Judges an IdP's settings on the core's clock: certificates that have expired (or are not valid
 * yet) are left out with a note, and refused when none would remain; metadata past its
 * `validUntil` is refused.
 */
function checkIdp(ctx: Context, metadata: IdpMetadata, source: string): {idp: SamlIdp; notes: string[]} {
	const now = ctx.now();
	if (metadata.validUntil !== undefined) {
		const until = new Date(metadata.validUntil);
		if (Number.isNaN(until.getTime())) throw invalid(`The validUntil "${inert(metadata.validUntil)}" of ${source} is not a time.`);
		if (until <= now) throw invalid(`${source} was valid until ${inert(metadata.validUntil)}; fetch current metadata from the IdP.`);
	}
	const notes: string[] = [];
	const kept: string[] = [];
	for (const pem of metadata.certificates) {
		const cert = parseCertificate(pem)!;
		const facts = certificateFacts(cert, now);
		const warning = certificateWarning(`The IdP signing certificate ${facts.subject}`, facts);
		if (isCurrent(cert, now)) {
			kept.push(pem);
			if (warning) notes.push(warning);
		} else notes.push(`Left out: ${warning ?? ''}`);
	}
	if (kept.length === 0) {
		const first = certificateFacts(parseCertificate(metadata.certificates[0]!)!, now);
		throw invalid(`${source} holds no signing certificate that can be used now: ${certificateWarning(first.subject, first) ?? first.subject}`);
	}
	return {idp: {entityId: metadata.entityId, ssoUrl: metadata.ssoUrl, binding: metadata.binding, certificates: kept}, notes};
}

/** Reads a metadata file the admin named, as UTF-8 text of bounded size. */
function readMetadataFile(ctx: Context, path: string): string {
	let bytes: Buffer;
	try {
		bytes = ctx.readFile(path);
	} catch (error) {
		throw invalid(`The metadata file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
	}
	if (bytes.length > METADATA_MAX_BYTES) throw invalid(`The metadata file ${path} is ${bytes.length} bytes; IdP metadata is a few kilobytes (at most ${METADATA_MAX_BYTES}).`);
	try {
		return new TextDecoder('utf-8', {fatal: true}).decode(bytes);
	} catch {
		throw invalid(`The metadata file ${path} is not UTF-8 text.`);
	}
}

/** Every certificate of a PEM file (the IdP's signing certificates, by hand). */
function readCertificateFile(ctx: Context, path: string): string[] {
	let text: string;
	try {
		text = ctx.readFile(path).toString('utf8');
	} catch (error) {
		throw invalid(`The certificate file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
	}
	const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
	const pems = blocks.map(block => parseCertificate(block)?.toString());
	if (pems.length === 0 || pems.some(p => p === undefined)) throw invalid(`The certificate file ${path} holds no PEM certificate orgctl can read.`);
	return pems as string[];
}

/**
 * Makes our key pair the first time (outside the store lock: RSA key generation takes a moment),
 * then runs the change in one audited transaction that keeps whichever key pair got there first.
 */
async function withServiceProvider<T>(ctx: Context, actor: Actor, action: string, target: string, change: (db: Database) => T): Promise<T> {
	let fresh: SsoSettings['sp'] = null;
	if (ctx.store.read().settings.sso.sp === null) {
		await checked(ctx, actor, action, target, () => authorize(actor, 'sso.manage'));
		const host = new URL(ctx.store.read().settings.publicUrl).host;
		const pair = await ctx.makeKeyPair({commonName: `orgctl SAML SP ${host}`, notBefore: ctx.now(), days: SP_CERTIFICATE_DAYS});
		fresh = {privateKeySealed: ctx.secrets.seal(pair.privateKeyPem), certificate: pair.certificatePem};
	}
	return perform(ctx, actor, action, target, db => {
		authorize(actor, 'sso.manage');
		if (db.settings.sso.sp === null) {
			if (!fresh) throw conflict('The SAML key pair changed meanwhile; try again.');
			db.settings.sso.sp = fresh;
		}
		const result = change(db);
		touch(db.settings);
		return result;
	});
}

/** The IdP by hand (the console's form, `sso set --idp-entity-id … --sso-url … --idp-cert FILE`). */
export type IdpFields = {readonly entityId: string; readonly ssoUrl: string; readonly binding?: string; readonly certificateFile: string};

async function saveIdp(ctx: Context, actor: Actor, target: string, prepare: () => Promise<{idp: SamlIdp; notes: string[]}> | {idp: SamlIdp; notes: string[]}, matchAttribute: string | undefined): Promise<SsoSaved> {
	let checked: {idp: SamlIdp; notes: string[]};
	let match: MatchAttribute | undefined;
	// Everything is checked before the store is touched; a refusal is audited like a change.
	try {
		authorize(actor, 'sso.manage');
		checked = await prepare();
		match = matchAttribute === undefined ? undefined : parseMatchAttribute(matchAttribute);
	} catch (error) {
		return refuse(ctx, actor, 'settings.sso.set', target, error);
	}
	await withServiceProvider(ctx, actor, 'settings.sso.set', target, db => {
		db.settings.sso.idp = checked.idp;
		if (match) db.settings.sso.matchAttribute = match;
	});
	return {view: ssoViewIn(ctx, ctx.store.read(), actor), notes: checked.notes};
}

/** `orgctl settings sso set --idp-metadata FILE`: the IdP from its metadata XML, every required field checked. */
export async function importIdpMetadata(ctx: Context, actor: Actor, input: {readonly path: string; readonly matchAttribute?: string}): Promise<SsoSaved> {
	const path = input.path.trim();
	return saveIdp(ctx, actor, path, async () => checkIdp(ctx, await parseIdpMetadata(readMetadataFile(ctx, path), path), path), input.matchAttribute);
}

/** The IdP's entity ID, single sign-on URL and signing certificates typed in, checked as metadata is. */
export async function setIdpByHand(ctx: Context, actor: Actor, input: IdpFields & {readonly matchAttribute?: string}): Promise<SsoSaved> {
	return saveIdp(
		ctx,
		actor,
		input.entityId.trim(),
		() => {
			const binding = (input.binding ?? 'redirect').trim();
			if (!(SSO_BINDINGS as readonly string[]).includes(binding)) throw invalid(`The single sign-on binding is redirect or post, not "${inert(binding)}".`);
			const metadata: IdpMetadata = {
				entityId: checkEntityId(input.entityId, 'IdP entity ID'),
				ssoUrl: checkHttpUrl(input.ssoUrl, 'single sign-on URL'),
				binding: binding as SamlIdp['binding'],
				certificates: readCertificateFile(ctx, input.certificateFile.trim()),
				validUntil: undefined,
			};
			return checkIdp(ctx, metadata, input.certificateFile.trim());
		},
		input.matchAttribute,
	);
}

/** Changes only how assertions are matched to users. */
export async function setMatchAttribute(ctx: Context, actor: Actor, value: string): Promise<SsoView> {
	await perform(ctx, actor, 'settings.sso.match', value, db => {
		authorize(actor, 'sso.manage');
		db.settings.sso.matchAttribute = parseMatchAttribute(value);
		touch(db.settings);
	});
	return ssoViewIn(ctx, ctx.store.read(), actor);
}

/** Makes our key pair now if there is none, so our metadata can go to the IdP before its own comes back. */
export async function prepareServiceProvider(ctx: Context, actor: Actor): Promise<SsoView> {
	if (ctx.store.read().settings.sso.sp !== null) return showSso(ctx, actor);
	await withServiceProvider(ctx, actor, 'settings.sso.sp', 'sp', () => undefined);
	return ssoViewIn(ctx, ctx.store.read(), actor);
}

/** Forgets the IdP: SAML sign-in stops; our key pair stays, so the IdP's copy of our metadata stays good. */
export async function clearIdp(ctx: Context, actor: Actor): Promise<void> {
	await perform(ctx, actor, 'settings.sso.clear', 'idp', db => {
		authorize(actor, 'sso.manage');
		db.settings.sso.idp = null;
		touch(db.settings);
	});
}
