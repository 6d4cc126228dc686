import type {Command} from 'commander';
import {listAudit} from '../../core/audit.js';
import {durationSeconds} from '../../core/durations.js';
import {table, UsageError, type CliContext} from '../context.js';

/** `orgctl audit [--since TIME]`: every change and refusal, newest first. */
export function registerAuditCommands(program: Command, cli: CliContext): void {
	program
		.command('audit')
		.description('show the audit log (admins: their tenant; superusers: everything)')
		.option('--since <time>', 'only events at or after this time (ISO 8601, or 1h, 2d, 30m ago)')
		.action(async (options: {since?: string}) => {
			const ctx = await cli.readingCtx();
			const actor = await cli.actor();
			const since = options.since === undefined ? undefined : parseSince(options.since, ctx.now());
			const events = await listAudit(ctx, actor, {since});
			// The client address column only when some event came over the network (orgctl serve).
			const from = events.some(e => e.clientAddress !== undefined) ? ([['clientAddress', 'from', {max: 45, priority: 5}]] as const) : [];
			// On a narrow terminal the reason gives way first, then the target; the time (to the second, UTC) and the result stay whole.
			cli.print(events, () =>
				table(
					events.map(e => ({...e, time: `${e.time.slice(0, 19).replace('T', ' ')}Z`})),
					[
						['time', 'time', {priority: 9}],
						['actor', 'actor', {max: 32, priority: 6}],
						...from,
						['action', 'action', {priority: 7}],
						['target', 'target', {max: 64, priority: 4}],
						['result', 'result', {priority: 9}],
						['reason', 'reason', {max: 100, priority: 2}],
					],
				),
			);
		});
}

/** `2026-11-27T10:00:00Z`, `2026-11-27`, or a duration back from now: `30m`, `1h`, `7d`. */
export function parseSince(text: string, now: Date): Date {
	const seconds = durationSeconds(text, {unitRequired: true});
	if (seconds !== undefined) {
		const date = new Date(now.getTime() - seconds * 1000);
		if (Number.isNaN(date.getTime())) throw new UsageError(`--since "${text}" reaches back further than a date can go.`);
		return date;
	}
	const date = new Date(text);
	if (Number.isNaN(date.getTime())) throw new UsageError(`--since "${text}" is not a time: use ISO 8601 (2026-11-27T10:00:00Z) or a duration such as 30m, 1h, 7d.`);
	return date;
}
