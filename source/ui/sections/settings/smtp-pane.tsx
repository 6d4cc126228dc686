import type {FormError} from '../../form-state.js';
import {useState} from 'react';
import {Box} from 'ink';
import {Text} from '../../components/text.js';
import {orgctlCommand} from '../../../core/shell.js';
import {clearSmtpSettings, sendTestMail, setSmtpSettings, SMTP_SECURITY_NAMES} from '../../../core/smtp-settings.js';
import {SMTP_SECURITY, type SmtpSettings} from '../../../core/model.js';
import {Fields} from '../../components/fields.js';
import {Form} from '../../components/form.js';
import {useConsole} from '../../console-context.js';
import useRecordedRun from '../../hooks/use-recorded-run.js';
import {theme} from '../../theme.js';
import {PaneView, type PaneProps} from './pane.js';

type Security = SmtpSettings['security'];
const securityNamed = (name: string): Security => SMTP_SECURITY.find(s => SMTP_SECURITY_NAMES[s] === name) ?? 'starttls';

/** The command line that saves what the form holds (the password goes on stdin). */
function smtpCommand(v: Readonly<Record<string, string>>): string {
	const trimmed = (name: string) => (v[name] ?? '').trim();
	return orgctlCommand(
		'settings', 'smtp', 'set',
		'--host', trimmed('host'), '--port', trimmed('port'), '--security', securityNamed(v['security'] ?? ''), '--from', trimmed('from'),
		...(trimmed('user') ? ['--user', trimmed('user'), ...(v['password'] ? ['--password-stdin'] : [])] : []),
		...(trimmed('caFile') ? ['--ca-file', trimmed('caFile')] : []),
		...(trimmed('timeout') ? ['--timeout', trimmed('timeout')] : []),
	);
}

/** SMTP: the server that sends invitations and sign-up codes; `e` edits, `t` sends a test e-mail, `d` removes. */
export function SmtpPane({view, width, height, onBack}: PaneProps) {
	const {ctx, actor, confirm} = useConsole();
	const smtp = view.smtp;
	const [mode, setMode] = useState<'show' | 'edit' | 'test'>('show');
	const [busy, setBusy] = useState<string | undefined>(undefined);
	const [error, setError] = useState<FormError | undefined>(undefined);
	const {outcome, act} = useRecordedRun();
	const close = () => {
		setMode('show');
		setError(undefined);
	};

	const save = async (values: Readonly<Record<string, string>>) => {
		setBusy('Saving the SMTP settings…');
		setError(undefined);
		const saved = await act({
			task: () =>
				setSmtpSettings(ctx, actor, {
					host: values['host'] ?? '',
					port: values['port'] ?? '',
					security: securityNamed(values['security'] ?? ''),
					from: values['from'] ?? '',
					user: values['user'] ?? null,
					password: values['password'] ? values['password'] : undefined,
					caFile: values['caFile'] ?? null,
					timeoutMs: values['timeout'] ?? '',
				}),
			done: s => `SMTP settings saved: ${s.host}:${s.port}, ${SMTP_SECURITY_NAMES[s.security]}; press t to send a test e-mail.`,
			failed: setError,
			command: smtpCommand(values),
		});
		setBusy(undefined);
		if (saved) close();
	};

	const test = async (to: string) => {
		setBusy(`Sending a test e-mail to ${to.trim()}…`);
		setError(undefined);
		const sent = await act({
			task: () => sendTestMail(ctx, actor, to),
			done: r => `Test e-mail to ${to.trim()} sent; the server said: ${r.response}`,
			failed: setError,
			command: orgctlCommand('settings', 'smtp', 'test', '--to', to.trim()),
		});
		setBusy(undefined);
		if (sent) close();
	};

	if (mode === 'edit') {
		return (
			<Box flexDirection="column" width={width}>
			<Form
				title="SMTP: the server that sends invitations and codes"
				fields={[
					{name: 'host', label: 'Host', initial: smtp?.host ?? ''},
					{name: 'port', label: 'Port', initial: String(smtp?.port ?? 587)},
					{name: 'security', label: 'Security', kind: 'choice', options: SMTP_SECURITY.map(s => SMTP_SECURITY_NAMES[s]), initial: SMTP_SECURITY_NAMES[smtp?.security ?? 'starttls'], hint: '←/→'},
					{name: 'user', label: 'User', initial: smtp?.user ?? ''},
					{name: 'password', label: 'Password', kind: 'password'},
					{name: 'from', label: 'From', initial: smtp?.from ?? ''},
					{name: 'caFile', label: 'CA file', initial: smtp?.caFile ?? ''},
					{name: 'timeout', label: 'Timeout ms', initial: String(smtp?.timeoutMs ?? 10_000)},
				]}
				buttons={[{id: 'save', label: 'Save'}]}
				onPress={(_button, values) => void save(values)}
				onCancel={close}
				busy={busy}
				error={error}
				width={width}
			/>
			<Text {...theme.muted} wrap="wrap">
				{smtp?.hasPassword ? 'An empty password keeps the saved one. ' : ''}No user: no login. No CA file: the system's CAs.
			</Text>
			</Box>
		);
	}
	if (mode === 'test') {
		return (
			<Form
				title="Send a test e-mail with the saved SMTP settings"
				fields={[{name: 'to', label: 'To', initial: actor.user.email}]}
				buttons={[{id: 'send', label: 'Send test e-mail'}]}
				onPress={(_button, values) => void test(values['to'] ?? '')}
				onCancel={close}
				busy={busy}
				error={error}
				width={width}
			/>
		);
	}
	return (
		<PaneView
			title="SMTP"
			contexts={smtp ? ['settings-smtp'] : []}
			onBack={onBack}
			outcome={outcome}
			width={width}
			onKey={command => {
				if (command === 'settings.edit') setMode('edit');
				else if (command === 'settings.test' && smtp) setMode('test');
				else if (command === 'settings.clearSmtp' && smtp) {
					void (async () => {
						if (!(await confirm('Remove the SMTP settings? Invitations are then kept as "not sent" until SMTP is set again.'))) return;
						await act({task: () => clearSmtpSettings(ctx, actor), done: 'SMTP settings removed.', command: orgctlCommand('settings', 'smtp', 'clear')});
					})();
				} else return false;
				return true;
			}}
		>
			{smtp ? (
				<Fields
					rows={[
						['Host', smtp.host],
						['Port', String(smtp.port)],
						['Security', SMTP_SECURITY_NAMES[smtp.security]],
						['User', smtp.user ?? 'none (no login)'],
						['Password', smtp.user ? (smtp.hasPassword ? 'set (never shown)' : 'none') : '—'],
						['From', smtp.from],
						['CA file', smtp.caFile ?? 'none: the system CAs'],
						['Timeout', `${smtp.timeoutMs} ms (socket ${smtp.timeoutMs * 3} ms)`],
					]}
					width={width}
				/>
			) : (
				<Box width={width} height={Math.min(2, height)}>
					<Text {...theme.muted} wrap="wrap">
						SMTP is not configured: invitations are kept as not sent, and their links can be copied. Press e to set it.
					</Text>
				</Box>
			)}
		</PaneView>
	);
}
