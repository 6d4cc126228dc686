import type {Command} from 'commander';
import {inert} from '../../core/inert.js';
import type {CliContext, StoreReport} from '../context.js';

function render(report: StoreReport): string {
	const lines = [`Store ${inert(report.path)}${report.realPath === report.path ? '' : ` (${inert(report.realPath)})`}`];
	for (const finding of report.findings) {
		lines.push(`  ${finding.ok ? 'ok     ' : 'PROBLEM'}  ${finding.subject.padEnd(10)}  ${inert(finding.detail)}`);
		if (finding.fix) lines.push(`  ${' '.repeat(7)}  ${' '.repeat(10)}  ${finding.ok ? 'if so' : 'fix'}: ${inert(finding.fix)}`);
	}
	const problems = report.findings.filter(f => !f.ok).length;
	lines.push(problems === 0 ? 'The store is healthy.' : `${problems} problem${problems === 1 ? '' : 's'}: see each fix above.`);
	return `${lines.join('\n')}\n`;
}

/** `orgctl admin check`: what is wrong with the store and how to recover it; exit 0 healthy, 1 not. */
export function registerAdminCheck(admin: Command, cli: CliContext): void {
	admin
		.command('check')
		.description('report what is wrong with the store and how to recover it, changing nothing (exit 0 healthy, 1 not)')
		.action(async () => {
			const report = await cli.checkStore();
			cli.print(report, () => render(report));
			cli.exitCode = report.healthy ? 0 : 1;
		});
}
