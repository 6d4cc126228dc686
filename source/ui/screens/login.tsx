import {useState} from 'react';
import {Box} from 'ink';
import {Text} from '../components/text.js';
import {login} from '../../core/accounts.js';
import type {Actor, Context} from '../../core/context.js';
import {isOrgError} from '../../core/errors.js';
import {orgctlCommand} from '../../core/shell.js';
import {Form} from '../components/form.js';
import type {FormError} from '../form-state.js';
import {formError} from '../console-context.js';
import {theme} from '../theme.js';
import {LOGIN_ENTRIES, type EntryScreenProps, type LoginEntry, type Outcome} from './login-entries.js';

type Props = {
	readonly ctx: Context;
	readonly tenant: string | undefined;
	readonly width: number;
	readonly height: number;
	/** Why the user has to sign in (an ended session), shown above the form. */
	readonly notice?: string | undefined;
	/** Signed in: with the outcome and its command (`orgctl login --username U`) for the status line. */
	readonly onDone: (actor: Actor, done: Outcome) => void;
	readonly notify: EntryNotify;
};

type EntryNotify = EntryScreenProps['notify'];

/** Sign in with username or e-mail and password; below, the entries other flows plug into. */
export function Login({ctx, tenant, width, height, notice, onDone, notify}: Props) {
	const [attempt, setAttempt] = useState(0);
	const [identifier, setIdentifier] = useState('');
	const [busy, setBusy] = useState<string | undefined>(undefined);
	const [error, setError] = useState<FormError | undefined>(undefined);
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
				notify={notify}
				onDone={(actor, done) => {
					setEntry(undefined);
					if (actor) onDone(actor, done ?? {text: `Signed in as ${actor.user.username}.`});
				}}
			/>
		);
	}

	const submit = async (values: Readonly<Record<string, string>>) => {
		const name = (values['identifier'] ?? '').trim();
		if (name === '') {
			setError({message: 'Type your username or e-mail first.', field: 'identifier'});
			return;
		}
		setBusy('Checking the password…');
		setError(undefined);
		try {
			const actor = await login(ctx, {identifier: name, password: values['password'] ?? '', ...(tenant ? {tenant} : {})});
			onDone(actor, {text: `Signed in as ${actor.user.username}.`, command: orgctlCommand(...(tenant ? ['--tenant', tenant] : []), 'login', '--username', name)});
		} catch (caught) {
			setBusy(undefined);
			setError(isOrgError(caught) ? {message: caught.message} : formError(caught));
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
		else setError({message: chosen.unavailable});
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
