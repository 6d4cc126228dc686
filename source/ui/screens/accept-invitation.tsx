import {useState} from 'react';
import {Box} from 'ink';
import {Text} from '../components/text.js';
import {welcomeMessage} from '../../core/accounts.js';
import {acceptInvitation, inspectInvitation, inspectInvitationAudited} from '../../core/invitations.js';
import {orgctlCommand} from '../../core/shell.js';
import {Form} from '../components/form.js';
import {formError} from '../console-context.js';
import type {FormError} from '../form-state.js';
import {PRIORITY, useKeys} from '../input-router.js';
import {theme} from '../theme.js';
import type {EntryScreenProps} from './login-entries.js';

type Invited = ReturnType<typeof inspectInvitation> & {readonly link: string};

/**
 * "Accept invitation" on the sign-in screen: paste the link (or its token); a password user then
 * chooses a password and is signed in; PAM and SAML users are told how to sign in.
 */
export function AcceptInvitation({ctx, width, onDone, notify}: EntryScreenProps) {
	const [invited, setInvited] = useState<Invited | undefined>(undefined);
	const [finished, setFinished] = useState<string | undefined>(undefined);
	const [busy, setBusy] = useState<string | undefined>(undefined);
	const [error, setError] = useState<FormError | undefined>(undefined);

	const check = async (button: string, values: Readonly<Record<string, string>>) => {
		if (button === 'back') {
			onDone();
			return;
		}
		const link = (values['link'] ?? '').trim();
		try {
			// Audited like `orgctl accept`: a dead or forged link leaves a refused event.
			setInvited({...(await inspectInvitationAudited(ctx, link)), link});
			setError(undefined);
		} catch (caught) {
			setError({...formError(caught), field: 'link'});
		}
	};

	const accept = async (button: string, values: Readonly<Record<string, string>>) => {
		if (button === 'back') {
			onDone();
			return;
		}
		if (!invited) return;
		if (invited.method === 'password' && values['password'] !== values['repeat']) {
			setError({message: 'The password and its repetition differ; type them again.', field: 'repeat'});
			return;
		}
		setBusy('Creating your account…');
		setError(undefined);
		// A password user's new password, a PAM user's system password; SAML has none.
		const password = invited.method !== 'saml';
		// The same as `orgctl accept`; the link is spent now, so showing it gives nothing away.
		const command = password ? `printf %s "$PASSWORD" | ${orgctlCommand('accept', invited.link, '--password-stdin')}` : orgctlCommand('accept', invited.link);
		try {
			const {user, tenant} = await acceptInvitation(ctx, {link: invited.link, ...(password ? {password: values['password'] ?? ''} : {})});
			if (user.method === 'password') {
				onDone({user, tenant}, {text: `Welcome, ${user.username}: your account in ${tenant.name} is ready.`, command});
				return;
			}
			const done = welcomeMessage(user, tenant);
			setFinished(done);
			notify({text: done, command});
		} catch (caught) {
			setError(formError(caught));
		}
		setBusy(undefined);
	};

	useKeys(
		['detail'],
		command => {
			if (command !== 'view.back' || !finished) return false;
			onDone();
			return true;
		},
		{priority: PRIORITY.detail, active: finished !== undefined},
	);

	return (
		<Box flexDirection="column" width={width} paddingX={1}>
			<Text {...theme.title}>Accept invitation</Text>
			{finished ? (
				<>
					<Text> </Text>
					<Text {...theme.success} wrap="wrap">
						✓ {finished}
					</Text>
					<Text {...theme.muted}>Esc: back to sign-in</Text>
				</>
			) : invited ? (
				<>
					<Text wrap="wrap">
						Invitation for <Text {...theme.heading}>{invited.username}</Text> &lt;{invited.email}&gt; to {invited.tenant} as {invited.role}.
					</Text>
					<Text {...theme.muted} wrap="wrap">
						{invited.method === 'password'
							? `Choose a password of at least ${invited.minPasswordLength} characters.`
							: invited.method === 'pam'
								? `Confirm the system account ${invited.username} with its password (checked through PAM); you will sign in with it.`
								: 'You will sign in with single sign-on (SAML).'}
					</Text>
					<Text> </Text>
					<Form
						key="password"
						fields={
							invited.method === 'password'
								? [
										{name: 'password', label: 'New password', kind: 'password'},
										{name: 'repeat', label: 'Repeat', kind: 'password'},
									]
								: invited.method === 'pam'
									? [{name: 'password', label: 'System password', kind: 'password'}]
									: []
						}
						buttons={[
							{id: 'accept', label: 'Accept'},
							{id: 'back', label: 'Back'},
						]}
						onPress={(button, values) => void accept(button, values)}
						onCancel={() => onDone()}
						busy={busy}
						error={error}
						width={width - 2}
					/>
				</>
			) : (
				<>
					<Text {...theme.muted} wrap="wrap">
						Paste the link from the invitation e-mail (or its token), then Enter.
					</Text>
					<Text> </Text>
					<Form
						key="link"
						fields={[{name: 'link', label: 'Link'}]}
						buttons={[
							{id: 'next', label: 'Next'},
							{id: 'back', label: 'Back'},
						]}
						onPress={(button, values) => void check(button, values)}
						onCancel={() => onDone()}
						error={error}
						width={width - 2}
					/>
				</>
			)}
		</Box>
	);
}
