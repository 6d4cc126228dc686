import {useState} from 'react';
import {Box} from 'ink';
import {Text} from '../components/text.js';
import type {AuthMethod} from '../../core/model.js';
import {orgctlCommand} from '../../core/shell.js';
import {pendingSignupMethod, startSignup, verifySignup, type SignupStarted} from '../../core/signup.js';
import {Form} from '../components/form.js';
import {formError} from '../console-context.js';
import type {FormError} from '../form-state.js';
import {theme} from '../theme.js';
import type {EntryScreenProps} from './login-entries.js';

/** Where the person signing up is: asking for the address, or for the mailed code. */
type Step = {readonly kind: 'address'} | {readonly kind: 'code'; readonly started: SignupStarted; readonly method: AuthMethod | undefined};

/**
 * Self sign-up from the sign-in screen: e-mail and username, then the code from the mail (and a
 * password for password accounts); the new user lands signed in. The same core operations as
 * `orgctl signup` and `orgctl signup verify`.
 */
export function Signup({ctx, tenant, width, onDone, notify}: EntryScreenProps) {
	const [step, setStep] = useState<Step>({kind: 'address'});
	const [busy, setBusy] = useState<string | undefined>(undefined);
	const [error, setError] = useState<FormError | undefined>(undefined);

	const start = async (values: Readonly<Record<string, string>>) => {
		setBusy('Sending the code…');
		setError(undefined);
		const email = (values['email'] ?? '').trim();
		const username = (values['username'] ?? '').trim();
		const command = orgctlCommand(...(tenant ? ['--tenant', tenant] : []), 'signup', email, username);
		try {
			const started = await startSignup(ctx, {email: values['email'] ?? '', username: values['username'] ?? '', ...(tenant ? {tenant} : {})});
			setBusy(undefined);
			if (started.mail.state === 'failed' || started.mail.state === 'not-sent') {
				setError({message: started.message});
				notify({kind: 'error', text: started.message, command});
				return;
			}
			notify({text: started.message, command});
			setStep({kind: 'code', started, method: pendingSignupMethod(ctx, started.email, started.tenant)});
		} catch (caught) {
			setBusy(undefined);
			setError(formError(caught));
		}
	};

	const verify = async (started: SignupStarted, method: AuthMethod | undefined, values: Readonly<Record<string, string>>) => {
		const password = method === 'password' ? (values['password'] ?? '') : undefined;
		if (password !== undefined && password !== values['repeat']) {
			setError({message: 'The password and its repetition differ; type them again.', field: 'repeat'});
			return;
		}
		setBusy(password !== undefined ? 'Checking the code and saving your password…' : 'Checking the code…');
		setError(undefined);
		const code = (values['code'] ?? '').trim();
		const verifyArgs = ['signup', 'verify', started.email, code, ...(password !== undefined ? ['--password-stdin'] : [])];
		// The code is spent once it worked: the command shows it as it was used.
		const command = password !== undefined ? `printf %s "$PASSWORD" | ${orgctlCommand('--tenant', started.tenant, ...verifyArgs)}` : orgctlCommand('--tenant', started.tenant, ...verifyArgs);
		try {
			const actor = await verifySignup(ctx, {email: started.email, code: values['code'] ?? '', tenant: started.tenant, ...(password !== undefined ? {password} : {})});
			onDone(actor, {text: `Welcome, ${actor.user.username}: you are a ${actor.user.role} of ${actor.tenant.name}.`, command});
		} catch (caught) {
			setBusy(undefined);
			const problem = formError(caught);
			setError(problem.field === undefined ? {...problem, field: 'code'} : problem);
		}
	};

	if (step.kind === 'code') {
		const {started, method} = step;
		const policy = ctx.store.read().settings.policy;
		return (
			<Box flexDirection="column" width={width} paddingX={1}>
				<Text {...theme.title}>Sign up: enter the code</Text>
				<Text {...theme.success} wrap="wrap">
					{started.message}
				</Text>
				<Text {...theme.muted} wrap="wrap">
					{method === 'password'
						? `Choose a password of at least ${policy.minPasswordLength} characters. Esc goes back to sign-in.`
						: method
							? `You will sign in with ${method.toUpperCase()}. Esc goes back to sign-in.`
							: 'Esc goes back to sign-in.'}
				</Text>
				<Text> </Text>
				<Form
					fields={[
						{name: 'code', label: 'Code from the mail'},
						...(method === 'password'
							? [
									{name: 'password', label: 'Choose a password', kind: 'password' as const},
									{name: 'repeat', label: 'Repeat it', kind: 'password' as const},
								]
							: []),
					]}
					buttons={[{id: 'verify', label: 'Create my account'}]}
					onPress={(_button, values) => void verify(started, method, values)}
					onCancel={() => onDone()}
					busy={busy}
					error={error}
					width={width - 2}
				/>
			</Box>
		);
	}

	return (
		<Box flexDirection="column" width={width} paddingX={1}>
			<Text {...theme.title}>Sign up</Text>
			<Text {...theme.muted} wrap="wrap">
				With an address of a domain open for sign-up, a code is mailed to you to prove it. Esc goes back to sign-in.
			</Text>
			<Text> </Text>
			<Form
				fields={[
					{name: 'email', label: 'Your e-mail'},
					{name: 'username', label: 'Username'},
				]}
				buttons={[{id: 'send', label: 'Send me a code'}]}
				onPress={(_button, values) => void start(values)}
				onCancel={() => onDone()}
				busy={busy}
				error={error}
				width={width - 2}
			/>
		</Box>
	);
}
