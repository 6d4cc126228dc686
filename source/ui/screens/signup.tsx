import {useState} from 'react';
import {Box} from 'ink';
import {Text} from '../components/text.js';
import {isOrgError} from '../../core/errors.js';
import type {AuthMethod} from '../../core/model.js';
import {pendingSignupMethod, startSignup, verifySignup, type SignupStarted} from '../../core/signup.js';
import {Form} from '../components/form.js';
import {theme} from '../theme.js';
import type {EntryScreenProps} from './login-entries.js';

/** Where the person signing up is: asking for the address, or for the mailed code. */
type Step = {readonly kind: 'address'} | {readonly kind: 'code'; readonly started: SignupStarted; readonly method: AuthMethod | undefined};

const message = (caught: unknown) => (isOrgError(caught) ? caught.message : String(caught));

/**
 * Self sign-up from the sign-in screen: e-mail and username, then the code from the mail (and a
 * password for password accounts); the new user lands signed in. The same core operations as
 * `orgctl signup` and `orgctl signup verify`.
 */
export function Signup({ctx, tenant, width, onDone}: EntryScreenProps) {
	const [step, setStep] = useState<Step>({kind: 'address'});
	const [busy, setBusy] = useState<string | undefined>(undefined);
	const [error, setError] = useState<string | undefined>(undefined);
	// A new key resets a form: after a wrong code the code field is empty again.
	const [attempt, setAttempt] = useState(0);

	const start = async (values: Readonly<Record<string, string>>) => {
		setBusy('Sending the code…');
		setError(undefined);
		try {
			const started = await startSignup(ctx, {email: values['email'] ?? '', username: values['username'] ?? '', ...(tenant ? {tenant} : {})});
			setBusy(undefined);
			if (started.mail.state === 'failed' || started.mail.state === 'not-sent') {
				setError(started.message);
				return;
			}
			setStep({kind: 'code', started, method: pendingSignupMethod(ctx, started.email, started.tenant)});
		} catch (caught) {
			setBusy(undefined);
			setError(message(caught));
		}
	};

	const verify = async (started: SignupStarted, method: AuthMethod | undefined, values: Readonly<Record<string, string>>) => {
		const password = method === 'password' ? (values['password'] ?? '') : undefined;
		if (password !== undefined && password !== values['repeat']) {
			setError('The password and its repetition differ; type them again.');
			setAttempt(n => n + 1);
			return;
		}
		setBusy(password !== undefined ? 'Checking the code and saving your password…' : 'Checking the code…');
		setError(undefined);
		try {
			const actor = await verifySignup(ctx, {email: started.email, code: values['code'] ?? '', tenant: started.tenant, ...(password !== undefined ? {password} : {})});
			onDone(actor, `Welcome, ${actor.user.username}: you are a ${actor.user.role} of ${actor.tenant.name}.`);
		} catch (caught) {
			setBusy(undefined);
			setError(message(caught));
			setAttempt(n => n + 1);
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
					key={attempt}
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
