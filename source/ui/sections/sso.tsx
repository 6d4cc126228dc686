import type {FormError} from '../form-state.js';
import {useMemo, useState} from 'react';
import {Box, useStdout} from 'ink';
import {Text} from '../components/text.js';
import {copyToClipboard, describeCopy} from '../../adapters/clipboard.js';
import {orgctlCommand} from '../../core/shell.js';
import {SSO_BINDINGS, SSO_MATCH_ATTRIBUTES} from '../../core/model.js';
import {clearIdp, importIdpMetadata, MATCH_ATTRIBUTE_NAMES, prepareServiceProvider, setIdpByHand, setMatchAttribute, ssoViewIn, type SsoSaved} from '../../core/sso-settings.js';
import {Fields} from '../components/fields.js';
import {Form} from '../components/form.js';
import {OutcomeLines} from '../components/outcome.js';
import {useConsole} from '../console-context.js';
import useRecordedRun from '../hooks/use-recorded-run.js';
import {PRIORITY, useKeys} from '../input-router.js';
import {theme} from '../theme.js';
import {fingerprintRows} from './settings/ssl-pane.js';
import type {Section, SectionProps} from './section.js';

type Mode = 'show' | 'import' | 'edit' | 'metadata';

/** A line cut into pieces of `width` characters. */
function screenLines(line: string, width: number): string[] {
	const chars = [...line];
	const pieces: string[] = [];
	for (let i = 0; i < chars.length; i += width) pieces.push(chars.slice(i, i + width).join(''));
	return pieces;
}

const saved = (s: SsoSaved) => ['Single sign-on settings saved.', ...s.notes].join(' ');

/** Single Sign-On: the IdP we send people to, and what the IdP needs from us (with Copy). */
function SingleSignOn({width, height}: SectionProps) {
	const {ctx, actor, db, confirm} = useConsole();
	const {stdout} = useStdout();
	const view = useMemo(() => ssoViewIn(ctx, db, actor), [ctx, db, actor]);
	const [mode, setMode] = useState<Mode>('show');
	const [busy, setBusy] = useState<string | undefined>(undefined);
	const [error, setError] = useState<FormError | undefined>(undefined);
	const [scroll, setScroll] = useState(0);
	const {outcome, act} = useRecordedRun();
	const back = () => {
		setMode('show');
		setError(undefined);
	};

	const copyMetadata = async () => {
		const copied = await act({
			task: async () => {
				const fresh = await prepareServiceProvider(ctx, actor);
				return copyToClipboard(fresh.sp.metadata ?? '', {output: stdout});
			},
			busy: 'Preparing our SP metadata…',
			done: result => `Our SP metadata: ${describeCopy(result)}; it is on screen too.`,
			command: orgctlCommand('settings', 'sso', 'sp-metadata'),
		});
		if (copied) {
			setScroll(0);
			setMode('metadata');
		}
	};

	const submit = async (kind: 'import' | 'edit', values: Readonly<Record<string, string>>) => {
		const match = values['match'] ?? view.matchAttribute;
		setBusy(kind === 'import' ? 'Reading the IdP metadata…' : 'Checking the IdP settings…');
		setError(undefined);
		const path = (values['path'] ?? '').trim();
		const result =
			kind === 'import'
				? await act({
						task: () => importIdpMetadata(ctx, actor, {path, matchAttribute: match}),
						done: saved,
						failed: setError,
						command: orgctlCommand('settings', 'sso', 'set', '--idp-metadata', path, ...(match === 'email' ? ['--match-attribute', 'email'] : [])),
					})
				: await act({
						task: () => setIdpByHand(ctx, actor, {entityId: values['entityId'] ?? '', ssoUrl: values['ssoUrl'] ?? '', binding: values['binding'] ?? 'redirect', certificateFile: values['cert'] ?? '', matchAttribute: match}),
						done: saved,
						failed: setError,
						command: orgctlCommand('settings', 'sso', 'set', '--idp-entity-id', (values['entityId'] ?? '').trim(), '--sso-url', (values['ssoUrl'] ?? '').trim(), '--binding', values['binding'] ?? 'redirect', '--idp-cert', (values['cert'] ?? '').trim(), ...(match === 'email' ? ['--match-attribute', 'email'] : [])),
					});
		setBusy(undefined);
		if (result) back();
	};

	// Cut into screen lines here, so scrolling moves by what is drawn and every character is shown.
	const metadataLines = (view.sp.metadata ?? '')
		.split('\n')
		.filter(line => line !== '')
		.flatMap(line => screenLines(line, width));
	const room = Math.max(1, height - 3);

	useKeys(
		['sso'],
		command => {
			switch (command) {
				case 'sso.import':
					setMode('import');
					return true;
				case 'sso.edit':
					setMode('edit');
					return true;
				case 'sso.match': {
					const next = view.matchAttribute === 'nameid' ? 'email' : 'nameid';
					void act({task: () => setMatchAttribute(ctx, actor, next), done: `Users are now matched by ${MATCH_ATTRIBUTE_NAMES[next]}.`, command: orgctlCommand('settings', 'sso', 'set', '--match-attribute', next)});
					return true;
				}
				case 'sso.copy':
					void copyMetadata();
					return true;
				case 'sso.view':
					if (view.sp.metadata) {
						setScroll(0);
						setMode('metadata');
					} else void copyMetadata();
					return true;
				case 'sso.clear':
					if (!view.idp) return true;
					void (async () => {
						if (!(await confirm(`Forget the IdP ${view.idp?.entityId ?? ''}? SAML users cannot sign in until one is set again.`))) return;
						await act({task: () => clearIdp(ctx, actor), done: 'The IdP is forgotten.', command: orgctlCommand('settings', 'sso', 'clear')});
					})();
					return true;
				default:
					return false;
			}
		},
		{priority: PRIORITY.detail, active: mode === 'show'},
	);

	useKeys(
		['sso-metadata'],
		command => {
			if (command === 'metadata.back') back();
			else if (command === 'metadata.down') setScroll(s => Math.min(Math.max(0, metadataLines.length - room), s + 1));
			else if (command === 'metadata.up') setScroll(s => Math.max(0, s - 1));
			else if (command === 'metadata.copy') void copyMetadata();
			else return false;
			return true;
		},
		{priority: PRIORITY.detail, active: mode === 'metadata'},
	);

	const matchField = {name: 'match', label: 'Match users by', kind: 'choice' as const, options: SSO_MATCH_ATTRIBUTES, initial: view.matchAttribute, hint: '←/→'};
	if (mode === 'import') {
		return (
			<Form
				title="Import the IdP metadata (an XML file on this server)"
				fields={[{name: 'path', label: 'Metadata file'}, matchField]}
				buttons={[{id: 'import', label: 'Check and save'}]}
				onPress={(_b, values) => void submit('import', values)}
				onCancel={back}
				busy={busy}
				error={error}
				width={width}
			/>
		);
	}
	if (mode === 'edit') {
		return (
			<Form
				title="The IdP by hand"
				fields={[
					{name: 'entityId', label: 'IdP entity ID', initial: view.idp?.entityId ?? ''},
					{name: 'ssoUrl', label: 'SSO URL', initial: view.idp?.ssoUrl ?? ''},
					{name: 'binding', label: 'Binding', kind: 'choice', options: SSO_BINDINGS, initial: view.idp?.binding ?? 'redirect', hint: '←/→'},
					{name: 'cert', label: 'Certificate file'},
					matchField,
				]}
				buttons={[{id: 'save', label: 'Check and save'}]}
				onPress={(_b, values) => void submit('edit', values)}
				onCancel={back}
				busy={busy}
				error={error}
				width={width}
			/>
		);
	}
	if (mode === 'metadata') {
		return (
			<Box flexDirection="column" width={width} height={height} overflow="hidden">
				<Text {...theme.heading} wrap="truncate-end">
					Our SP metadata, for the IdP <Text {...theme.muted}>(Esc: back)</Text>
				</Text>
				{metadataLines.slice(scroll, scroll + room).map((line, i) => (
					<Text key={scroll + i} wrap="truncate-end">
						{line}
					</Text>
				))}
				<Text {...theme.muted} wrap="truncate-end">{`lines ${scroll + 1}–${Math.min(metadataLines.length, scroll + room)} of ${metadataLines.length}`}</Text>
			</Box>
		);
	}

	const idp = view.idp;
	const rows: Array<readonly [string, string]> = idp
		? [
				['IdP entity ID', idp.entityId],
				['SSO URL', `${idp.ssoUrl} (${idp.binding === 'redirect' ? 'Redirect' : 'POST'})`],
				...idp.certificates.flatMap((c, i): Array<readonly [string, string]> => [
					[`Certificate ${i + 1}`, `until ${c.validTo.slice(0, 10)}: ${c.subject}`],
					...fingerprintRows(c.fingerprint256, width, '  SHA-256'),
				]),
			]
		: [['IdP', 'not set: i imports its metadata, e sets it by hand']];
	return (
		<Box flexDirection="column" width={width} height={height} overflow="hidden">
			<Text {...theme.title}>Single Sign-On (SAML)</Text>
			<Fields rows={[...rows, ['Match users by', MATCH_ATTRIBUTE_NAMES[view.matchAttribute]]]} width={width} />
			<Text {...theme.heading}>For the IdP (this server)</Text>
			<Fields
				rows={[
					['SP entity ID', view.sp.entityId],
					['ACS URL', `${view.sp.acsUrl} (POST)`],
					['SP metadata', view.sp.certificate ? `y copies, v shows · cert until ${view.sp.certificate.validTo.slice(0, 10)}` : 'y makes our key pair and copies it'],
				]}
				width={width}
			/>
			{view.warnings.map(w => (
				<Text key={w} {...theme.warning} wrap="truncate-end">
					⚠ {w}
				</Text>
			))}
			<OutcomeLines outcome={outcome} width={width} />
		</Box>
	);
}

export const ssoSection: Section = {
	id: 'sso',
	title: 'Single Sign-On',
	order: 65,
	visibleWith: 'sso.manage',
	contexts: ['sso-metadata'],
	Component: SingleSignOn,
};
