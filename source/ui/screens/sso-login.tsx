import {useEffect, useRef, useState} from 'react';
import {Box} from 'ink';
import {awaitDeviceLogin, startDeviceLogin, type DeviceLoginStarted} from '../../core/saml.js';
import {orgctlCommand} from '../../core/shell.js';
import {terminalOrigin} from '../../adapters/terminal-origin.js';
import {Form} from '../components/form.js';
import {Text} from '../components/text.js';
import {formError} from '../console-context.js';
import type {FormError} from '../form-state.js';
import {PRIORITY, useKeys} from '../input-router.js';
import {theme} from '../theme.js';
import type {EntryScreenProps} from './login-entries.js';

/** How often the console looks in the store for the browser's answer (a store read costs a stat when nothing changed). */
const POLL_MS = Number(process.env['ORGCTL_SSO_POLL_MS'] ?? 1000);

/**
 * "Single sign-on" on the sign-in screen, as `orgctl login --username U` does it: the username,
 * then a URL on orgctl serve and a code to type in any browser; the console keeps taking keys while
 * it waits (Esc cancels the code) and signs in when the identity provider's answer arrives.
 */
export function SsoLogin({ctx, tenant, width, onDone}: EntryScreenProps) {
	const [started, setStarted] = useState<DeviceLoginStarted | undefined>(undefined);
	const [refusal, setRefusal] = useState<string | undefined>(undefined);
	const [error, setError] = useState<FormError | undefined>(undefined);
	const [busy, setBusy] = useState<string | undefined>(undefined);
	const abort = useRef<AbortController | undefined>(undefined);

	// Leaving the screen any way cancels a waiting code.
	useEffect(() => () => abort.current?.abort(), []);

	const start = async (button: string, values: Readonly<Record<string, string>>) => {
		if (button === 'back') {
			onDone();
			return;
		}
		setBusy('Starting…');
		setError(undefined);
		const username = (values['username'] ?? '').trim();
		const command = orgctlCommand(...(tenant ? ['--tenant', tenant] : []), 'login', '--username', username);
		try {
			const login = await startDeviceLogin(ctx, {username, tenant, origin: terminalOrigin()});
			const controller = new AbortController();
			abort.current = controller;
			setStarted(login);
			setBusy(undefined);
			const actor = await awaitDeviceLogin(ctx, login, {intervalMs: POLL_MS, signal: controller.signal, onRefusal: setRefusal});
			onDone(actor, {text: `Signed in as ${actor.user.username} through single sign-on.`, command});
		} catch (caught) {
			setBusy(undefined);
			setStarted(undefined);
			if (abort.current?.signal.aborted) return;
			setError(formError(caught));
		}
	};

	useKeys(
		['detail'],
		command => {
			if (command !== 'view.back' || !started) return false;
			abort.current?.abort();
			onDone(undefined);
			return true;
		},
		{priority: PRIORITY.detail, active: started !== undefined},
	);

	return (
		<Box flexDirection="column" width={width} paddingX={1}>
			<Text {...theme.title}>Single sign-on</Text>
			{started ? (
				<>
					<Text wrap="wrap">Open this address in any browser and type the code:</Text>
					<Text> </Text>
					<Text {...theme.heading}>{started.url}</Text>
					<Text>
						Code: <Text {...theme.heading}>{started.code}</Text>
					</Text>
					<Text {...theme.muted} wrap="wrap">
						Signing in {started.username}; the code works once, until {started.expires.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}.
					</Text>
					{refusal ? (
						<Text {...theme.warning} wrap="wrap">
							{refusal} Try again in the browser.
						</Text>
					) : null}
					<Text> </Text>
					<Text {...theme.muted}>Waiting for the identity provider… Esc cancels.</Text>
				</>
			) : (
				<>
					<Text {...theme.muted} wrap="wrap">
						Your username; then a code to type in a browser, where you sign in at your identity provider.
					</Text>
					<Text> </Text>
					<Form
						fields={[{name: 'username', label: 'Username'}]}
						buttons={[
							{id: 'start', label: 'Show the code'},
							{id: 'back', label: 'Back'},
						]}
						onPress={(button, values) => void start(button, values)}
						onCancel={() => onDone()}
						busy={busy}
						error={error}
						width={width - 2}
					/>
				</>
			)}
		</Box>
	);
}
