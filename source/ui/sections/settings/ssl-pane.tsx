import type {FormError} from '../../form-state.js';
import {useState} from 'react';
import {Text} from '../../components/text.js';
import {certificateWarning, setSsl} from '../../../core/server-settings.js';
import {orgctlCommand} from '../../../core/shell.js';
import type {CertificateFacts} from '../../../core/certificates.js';
import {Fields} from '../../components/fields.js';
import {Form} from '../../components/form.js';
import {useConsole} from '../../console-context.js';
import useRecordedRun from '../../hooks/use-recorded-run.js';
import {theme} from '../../theme.js';
import {PaneView, Warning, type PaneProps} from './pane.js';

/** The columns a Fields label takes (components/fields.tsx). */
const LABEL = 16;

/** A SHA-256 fingerprint (95 characters) cut at whole bytes into lines that fit `width` after a label. */
export function fingerprintLines(fingerprint: string, width: number): string[] {
	const bytes = fingerprint.split(':');
	const perLine = Math.max(4, Math.floor((width - LABEL + 1) / 3));
	const lines: string[] = [];
	for (let i = 0; i < bytes.length; i += perLine) lines.push(bytes.slice(i, i + perLine).join(':'));
	return lines;
}

/** The rows that describe a certificate: who it is for, who vouches for it, when it ends, its fingerprint. */
export function certificateRows(facts: CertificateFacts, width: number, label = 'SHA-256'): Array<readonly [string, string]> {
	return [
		['Subject', facts.subject],
		['Issuer', facts.issuer],
		['Names', facts.subjectAltNames.join(', ') || '(none)'],
		['Valid', `${facts.validFrom.slice(0, 10)} to ${facts.validTo.slice(0, 10)}`],
		...fingerprintRows(facts.fingerprint256, width, label),
	];
}

/** The fingerprint as label-value rows: the label on the first, blank labels after. */
export function fingerprintRows(fingerprint: string, width: number, label = 'SHA-256'): Array<readonly [string, string]> {
	return fingerprintLines(fingerprint, width).map((line, i) => [i === 0 ? label : '', line] as const);
}

/** SSL: the certificate and key the listeners serve, and what the certificate says. */
export function SslPane({view, width, onBack}: PaneProps) {
	const {ctx, actor} = useConsole();
	const [editing, setEditing] = useState(false);
	const [busy, setBusy] = useState<string | undefined>(undefined);
	const [error, setError] = useState<FormError | undefined>(undefined);
	const {outcome, act} = useRecordedRun();
	const ssl = view.ssl;

	const save = async (values: Readonly<Record<string, string>>) => {
		const paths = {cert: values['cert'] ?? '', key: values['key'] ?? ''};
		setBusy('Checking the certificate and key…');
		setError(undefined);
		const facts = await act({
			task: () => setSsl(ctx, actor, paths),
			done: f => `Certificate saved: ${f.subject}, expires ${f.validTo.slice(0, 10)}.${f.warning ? ` ${certificateWarning('It', f) ?? ''}` : ''}`,
			failed: setError,
			command: orgctlCommand('settings', 'ssl', 'set', '--cert', paths.cert.trim(), '--key', paths.key.trim()),
		});
		setBusy(undefined);
		if (facts) {
			setEditing(false);
			setError(undefined);
		}
	};

	if (editing) {
		return (
			<Form
				title="SSL: certificate and key (PEM files on this server)"
				fields={[
					{name: 'cert', label: 'Certificate', initial: ssl?.cert ?? ''},
					{name: 'key', label: 'Key', initial: ssl?.key ?? ''},
				]}
				buttons={[{id: 'save', label: 'Check and save'}]}
				onPress={(_button, values) => void save(values)}
				onCancel={() => {
					setEditing(false);
					setError(undefined);
				}}
				busy={busy}
				error={error}
				width={width}
			/>
		);
	}
	return (
		<PaneView
			title="SSL"
			contexts={[]}
			onBack={onBack}
			outcome={outcome}
			width={width}
			onKey={command => {
				if (command !== 'settings.edit') return false;
				setEditing(true);
				return true;
			}}
		>
			{ssl ? (
				<>
					<Fields rows={[['Certificate', ssl.cert], ['Key', ssl.key], ...(ssl.facts ? certificateRows(ssl.facts, width) : [])]} width={width} />
					{ssl.unreadable ? <Warning text={`The certificate cannot be shown: ${ssl.unreadable}.`} width={width} /> : null}
					<Warning text={ssl.warning} width={width} />
				</>
			) : (
				<Text {...theme.muted} wrap="wrap">
					No certificate: the listeners serve plain HTTP. Press e to set a certificate and key.
				</Text>
			)}
		</PaneView>
	);
}
