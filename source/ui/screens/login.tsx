import {useState} from 'react';
import {Box} from 'ink';
import {Text} from '../components/text.js';
import {login} from '../../core/accounts.js';
import type {Actor, Context} from '../../core/context.js';
import {isOrgError} from '../../core/errors.js';
import {Form} from '../components/form.js';
import {theme} from '../theme.js';
import {LOGIN_ENTRIES, type LoginEntry} from './login-entries.js';

type Props = {
	readonly ctx: Context;
	readonly tenant: string | undefined;
	readonly width: number;
	readonly height: number;
	/** Why the user has to sign in (an ended session), shown above the form. */
	readonly notice?: string | undefined;
	readonly onDone: (actor: Actor, message?: string) => void;
};

/** Sign in with username or e-mail and password; below, the entries other flows plug into. */
export function Login({ctx, tenant, width, height, notice, onDone}: Props) {
	const [attempt, setAttempt] = useState(0);
	const [identifier, setIdentifier] = useState('');
	const [busy, setBusy] = useState<string | undefined>(undefined);
	const [error, setError] = useState<string | undefined>(undefined);
	const [entry, setEntry] = useState<LoginEntry | undefined>(undefined);
	const entries = LOGIN_ENTRIES.filter(e => e.visible(ctx.store.read(), tenant));

	if (entry?.Screen) {
		const Screen = entry.Screen;
		return (
			<Screen
				ctx={ctx}
				tenant={tenant}
				width={width}
				height={height}
				onDone={(actor, message) => {
					setEntry(undefined);
					if (actor) onDone(actor, message);
				}}
			/>
		);
	}

	const submit = async (values: Readonly<Record<string, string>>) => {
		const name = (values['identifier'] ?? '').trim();
		if (name === '') {
			setError('Type your username or e-mail first.');
			return;
		}
		setBusy('Checking the password…');
		setError(undefined);
		try {
			const actor = await login(ctx, {identifier: name, password: values['password'] ?? '', ...(tenant ? {tenant} : {})});
			onDone(actor);
		} catch (caught) {
			setBusy(undefined);
			setError(isOrgError(caught) ? caught.message : String(caught));
			// Keep the name, clear the password, and put the cursor there.
			setIdentifier(name);
			setAttempt(n => n + 1);
		}
	};

	const press = (button: string, values: Readonly<Record<string, string>>) => {
		if (button === 'signin') {
			void submit(values);
			return;
		}
		const chosen = entries.find(e => e.id === button);
		if (!chosen) return;
		if (chosen.Screen) setEntry(chosen);
		else setError(chosen.unavailable);
	};

	return (
		<Box flexDirection="column" width={width} paddingX={1}>
			<Text {...theme.title}>Sign in</Text>
			<Text {...theme.muted} wrap="wrap">
				{tenant ? `Tenant ${tenant}. ` : ''}Tab moves between fields and buttons; Enter signs in.
			</Text>
			{notice ? <Text {...theme.warning}>{notice}</Text> : null}
			<Text> </Text>
			<Form
				key={attempt}
				fields={[
					{name: 'identifier', label: 'Username or e-mail', initial: identifier},
					{name: 'password', label: 'Password', kind: 'password'},
				]}
				buttons={[{id: 'signin', label: 'Sign in'}, ...entries.map(e => ({id: e.id, label: e.label}))]}
				onPress={press}
				busy={busy}
				error={error}
				width={width - 2}
				initialFocus={identifier ? 1 : 0}
			/>
		</Box>
	);
}
