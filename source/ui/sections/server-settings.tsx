import {useMemo, useState, type ReactNode} from 'react';
import {Box} from 'ink';
import {formatDuration, LISTENERS, settingsViewIn, type SettingsView} from '../../core/server-settings.js';
import {SMTP_SECURITY_NAMES} from '../../core/smtp-settings.js';
import type {Column} from '../columns.js';
import {List} from '../components/list.js';
import {useConsole} from '../console-context.js';
import {ListenersPane} from './settings/listeners-pane.js';
import type {PaneProps} from './settings/pane.js';
import {PolicyPane, PublicUrlPane} from './settings/simple-panes.js';
import {SmtpPane} from './settings/smtp-pane.js';
import {SslPane} from './settings/ssl-pane.js';
import type {Section, SectionProps} from './section.js';

type Pane = {readonly id: string; readonly title: string; readonly summary: (view: SettingsView) => string; readonly Component: (props: PaneProps) => ReactNode};

/** The panes of Server Settings, each with the line the list shows for it. */
const PANES: readonly Pane[] = [
	{id: 'smtp', title: 'SMTP', summary: v => (v.smtp ? `${v.smtp.host}:${v.smtp.port}, ${SMTP_SECURITY_NAMES[v.smtp.security]}` : 'not configured'), Component: SmtpPane},
	{id: 'ssl', title: 'SSL', summary: v => (v.ssl ? (v.ssl.facts ? `${v.ssl.facts.subject}, until ${v.ssl.facts.validTo.slice(0, 10)}${v.ssl.warning ? ' ⚠' : ''}` : `⚠ ${v.ssl.cert} unreadable`) : 'no certificate'), Component: SslPane},
	{
		id: 'listeners',
		title: 'Listeners',
		summary: v =>
			LISTENERS.map(k => {
				const l = v.listeners.find(x => x.name === k.name);
				return `${k.name} ${l ? `${l.port}${l.ssl ? ' ssl' : ''}` : 'not set'}`;
			}).join(', '),
		Component: ListenersPane,
	},
	{id: 'public-url', title: 'Public URL', summary: v => v.publicUrl, Component: PublicUrlPane},
	{id: 'policy', title: 'Policy', summary: v => `invitations ${formatDuration(v.policy.invitationLifetimeSeconds)}, passwords ≥ ${v.policy.minPasswordLength}`, Component: PolicyPane},
];

function ServerSettings({width, height}: SectionProps) {
	const {ctx, actor, db} = useConsole();
	// Reads the certificate file for its facts: once per change of the data, not per frame.
	const view = useMemo(() => settingsViewIn(ctx, db, actor), [ctx, db, actor]);
	const [openId, setOpenId] = useState<string | undefined>(undefined);
	const open = PANES.find(p => p.id === openId);
	const columns = useMemo<readonly Column<Pane>[]>(
		() => [
			{title: 'SETTING', min: 10, width: 11, priority: 9, cell: p => p.title},
			{title: 'NOW', min: 10, width: 40, priority: 5, grow: 1, cell: p => p.summary(view)},
		],
		[view],
	);
	return (
		<Box flexDirection="column" width={width} height={height}>
			<Box display={open ? 'none' : 'flex'}>
				<List title="Server Settings" items={PANES} keyOf={p => p.id} width={width} height={height} columns={columns} onOpen={p => setOpenId(p.id)} contexts={['server-settings']} active={!open} />
			</Box>
			{open ? <open.Component view={view} width={width} height={height} onBack={() => setOpenId(undefined)} /> : null}
		</Box>
	);
}

export const serverSettingsSection: Section = {
	id: 'server-settings',
	title: 'Server Settings',
	order: 50,
	visibleWith: 'server.settings',
	contexts: ['settings-pane', 'settings-smtp', 'settings-listeners'],
	Component: ServerSettings,
};
