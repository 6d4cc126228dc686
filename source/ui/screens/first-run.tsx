import {useState} from 'react';
import {Box} from 'ink';
import {Text} from '../components/text.js';
import {initialize} from '../../core/accounts.js';
import type {Actor, Context} from '../../core/context.js';
import {Form} from '../components/form.js';
import {formError} from '../console-context.js';
import type {FormError} from '../form-state.js';
import {orgctlCommand} from '../../core/shell.js';
import {theme} from '../theme.js';

type Props = {
	readonly ctx: Context;
	readonly tenant: string | undefined;
	readonly width: number;
	readonly onDone: (actor: Actor, command: string) => void;
};

/** An empty store: the first user becomes admin and superuser of a first tenant. */
export function FirstRun({ctx, tenant, width, onDone}: Props) {
	const [busy, setBusy] = useState<string | undefined>(undefined);
	const [error, setError] = useState<FormError | undefined>(undefined);
	const submit = async (values: Readonly<Record<string, string>>) => {
		const {username = '', email = '', password = '', repeat = '', tenant: tenantName = ''} = values;
		if (password !== repeat) {
			setError({message: 'The two passwords differ; type them again.', field: 'repeat'});
			return;
		}
		setBusy('Creating the first user…');
		setError(undefined);
		try {
			const actor = await initialize(ctx, {username, email, password, tenant: tenantName || 'default'});
			const named = tenantName && tenantName !== 'default' ? ['--tenant', tenantName] : [];
			const command = orgctlCommand('init', '--username', username, '--email', email, '--password-stdin', ...named);
			onDone(actor, command);
		} catch (caught) {
			setBusy(undefined);
			setError(formError(caught));
		}
	};
	const min = ctx.store.read().settings.policy.minPasswordLength;
	return (
		<Box flexDirection="column" width={width} paddingX={1}>
			<Text {...theme.title}>Welcome to orgctl</Text>
			<Text wrap="wrap">This store has no users yet. Create the first one: it becomes admin and superuser.</Text>
			<Text> </Text>
			<Form
				fields={[
					{name: 'username', label: 'Username'},
					{name: 'email', label: 'E-mail'},
					{name: 'password', label: 'Password', kind: 'password', hint: `${min}+ chars`},
					{name: 'repeat', label: 'Repeat password', kind: 'password'},
					{name: 'tenant', label: 'Tenant', initial: tenant ?? 'default'},
				]}
				buttons={[{id: 'create', label: 'Create first user'}]}
				onPress={(_button, values) => void submit(values)}
				busy={busy}
				error={error}
				width={width - 2}
			/>
		</Box>
	);
}
