import type {DeviceLoginView} from '../../core/saml.js';
import {Field, Form, Hidden, MessagePage, Page} from './layout.js';

const utc = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');

/** `GET /login/device`: the code a terminal shows. */
export function DeviceCodePage({csrf, error, code}: {readonly csrf: string; readonly error?: string | undefined; readonly code?: string | undefined}) {
	return (
		<Page title="Sign in a terminal">
			<p>Type the code your terminal shows (orgctl login, or the console&apos;s single sign-on). Next you will see where that sign-in started, before anything happens.</p>
			<Form action="/login/device" csrf={csrf} submit="Next" error={error}>
				<Field label="Code" name="code" value={code} autoComplete="off" hint="8 letters, as WDJB-MJHT" />
			</Form>
		</Page>
	);
}

/**
 * Where and when the terminal's sign-in started: a code someone else sent you (phishing) shows a
 * host, a time and an address you do not know. Only "Continue" goes to the identity provider.
 */
export function DeviceConfirmPage({csrf, code, view, now}: {readonly csrf: string; readonly code: string; readonly view: DeviceLoginView; readonly now: Date}) {
	const minutes = Math.max(0, Math.round((now.getTime() - new Date(view.created).getTime()) / 60_000));
	return (
		<Page title="Is this your sign-in?" tenant={view.tenant ?? undefined}>
			<p>
				A terminal asks to be signed in as <strong>{view.username}</strong>. Continue only if you started it yourself, just now: anyone who gets you to sign in here gets your account in their
				terminal.
			</p>
			<dl>
				<dt>Host</dt>
				<dd id="host">{view.host}</dd>
				<dt>Started</dt>
				<dd id="started">
					{utc(view.created)} ({minutes === 0 ? 'less than a minute ago' : `${minutes} minute${minutes === 1 ? '' : 's'} ago`})
				</dd>
				<dt>From address, as the terminal claims it</dt>
				<dd id="client-address">{view.clientAddress === 'unknown' ? 'unknown (not over SSH)' : view.clientAddress}</dd>
				<dt>Code valid until</dt>
				<dd>{utc(view.expires)}</dd>
			</dl>
			<Form action="/login/device/confirm" csrf={csrf} submit="Yes, it was me: continue to the identity provider">
				<Hidden name="code" value={code} />
			</Form>
			<p className="muted">
				Not you? Close this page: nothing happens, and the code stops working in 10 minutes. <a href="/login/device">Type another code</a>
			</p>
		</Page>
	);
}

/** A refused single sign-on: one sentence, and the reason's code for the record. */
export function SamlRefusedPage({message, reason}: {readonly message: string; readonly reason: string}) {
	return (
		<Page title="Single sign-on did not work">
			<p className="error" role="alert" data-reason={reason} id="reason">
				{message}
			</p>
			<p className="muted">Go back to where you started (the invitation link, the sign-up page or your terminal&apos;s code) and try again.</p>
		</Page>
	);
}

/** A terminal's sign-in completed in this browser. */
export function DeviceDonePage({username, host}: {readonly username: string; readonly host: string}) {
	return <MessagePage title="Signed in" message={`The terminal on ${host} is now signed in as ${username}; go back to it. You can close this page.`} />;
}
