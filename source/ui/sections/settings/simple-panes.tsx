import type {FormError} from '../../form-state.js';
import {useState} from 'react';
import {formatDuration, parseDuration, setPolicy, setPublicUrl} from '../../../core/server-settings.js';
import {orgctlCommand} from '../../../core/shell.js';
import {Fields} from '../../components/fields.js';
import {Form} from '../../components/form.js';
import {useConsole} from '../../console-context.js';
import useRecordedRun from '../../hooks/use-recorded-run.js';
import {PaneView, Warning, type PaneProps} from './pane.js';

const onOff = (value: boolean) => (value ? 'on' : 'off');

/** One pane with one form: shown, or being edited (e). */
function useEditing() {
	const [editing, setEditing] = useState(false);
	const [busy, setBusy] = useState<string | undefined>(undefined);
	const [error, setError] = useState<FormError | undefined>(undefined);
	const stop = () => {
		setEditing(false);
		setError(undefined);
	};
	return {editing, setEditing, busy, setBusy, error, setError, stop};
}

/** Public URL: the base of every link mailed (invitations, sign-up, SAML). */
export function PublicUrlPane({view, width, onBack}: PaneProps) {
	const {ctx, actor} = useConsole();
	const {editing, setEditing, busy, setBusy, error, setError, stop} = useEditing();
	const {outcome, act} = useRecordedRun();
	const save = async (url: string) => {
		setBusy('Saving…');
		setError(undefined);
		const saved = await act({task: () => setPublicUrl(ctx, actor, url), done: v => `Links now start with ${v}/.`, failed: setError, command: orgctlCommand('settings', 'public-url', 'set', url.trim())});
		setBusy(undefined);
		if (saved) stop();
	};
	if (editing) {
		return (
			<Form
				title="Public URL: the address people open"
				fields={[{name: 'url', label: 'URL', initial: view.publicUrl}]}
				buttons={[{id: 'save', label: 'Save'}]}
				onPress={(_b, values) => void save(values['url'] ?? '')}
				onCancel={stop}
				busy={busy}
				error={error}
				width={width}
			/>
		);
	}
	return (
		<PaneView title="Public URL" contexts={[]} onBack={onBack} outcome={outcome} width={width} onKey={command => command === 'settings.edit' && (setEditing(true), true)}>
			<Fields
				rows={[
					['Public URL', view.publicUrl],
					['Invitation links', `${view.publicUrl}/invite/…`],
					['SAML (ACS)', `${view.publicUrl}/saml/acs`],
				]}
				width={width}
			/>
			<Warning text={view.linksUnreachable ?? undefined} width={width} />
		</PaneView>
	);
}

/** Organization policy: invitation lifetime, passwords, sign-up. */
export function PolicyPane({view, width, onBack}: PaneProps) {
	const {ctx, actor} = useConsole();
	const {editing, setEditing, busy, setBusy, error, setError, stop} = useEditing();
	const {outcome, act} = useRecordedRun();
	const policy = view.policy;
	const save = async (values: Readonly<Record<string, string>>) => {
		const lifetime = (values['lifetime'] ?? '').trim();
		const minimum = (values['minimum'] ?? '').trim();
		setBusy('Saving…');
		setError(undefined);
		const saved = await act({
			task: () =>
				setPolicy(ctx, actor, {
					invitationLifetimeSeconds: parseDuration(lifetime),
					minPasswordLength: minimum,
					requireEmailVerification: values['verify'] === 'on',
					blockPublicWebmailDomains: values['webmail'] === 'on',
				}),
			done: 'Organization policy saved.',
			failed: setError,
			command: orgctlCommand('settings', 'org', 'set', '--invitation-lifetime', lifetime, '--min-password-length', minimum, '--require-email-verification', values['verify'] ?? 'on', '--block-webmail', values['webmail'] ?? 'on'),
		});
		setBusy(undefined);
		if (saved) stop();
	};
	if (editing) {
		return (
			<Form
				title="Organization policy"
				fields={[
					{name: 'lifetime', label: 'Invitations last', initial: formatDuration(policy.invitationLifetimeSeconds)},
					{name: 'minimum', label: 'Min. password', initial: String(policy.minPasswordLength)},
					{name: 'verify', label: 'Verify e-mail', kind: 'choice', options: ['on', 'off'], initial: onOff(policy.requireEmailVerification), hint: '←/→'},
					{name: 'webmail', label: 'Block webmail', kind: 'choice', options: ['on', 'off'], initial: onOff(policy.blockPublicWebmailDomains), hint: '←/→'},
				]}
				buttons={[{id: 'save', label: 'Save'}]}
				onPress={(_b, values) => void save(values)}
				onCancel={stop}
				busy={busy}
				error={error}
				width={width}
			/>
		);
	}
	return (
		<PaneView title="Organization policy" contexts={[]} onBack={onBack} outcome={outcome} width={width} onKey={command => command === 'settings.edit' && (setEditing(true), true)}>
			<Fields
				rows={[
					['Invitations last', formatDuration(policy.invitationLifetimeSeconds)],
					['Min. password', `${policy.minPasswordLength} characters`],
					['Verify e-mail', `${onOff(policy.requireEmailVerification)} (self sign-up proves the address)`],
					['Block webmail', `${onOff(policy.blockPublicWebmailDomains)} (no gmail.com … as sign-up domain)`],
				]}
				width={width}
			/>
		</PaneView>
	);
}
