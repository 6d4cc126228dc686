import type {Command} from 'commander';
import {checkStore, type StoreReport} from '../../store/check.js';
import type {CliContext} from '../context.js';

/** Control characters and bidirectional overrides shown escaped: a store file is foreign text (DESIGN §4a). */
function inert(text: string): string {
	return text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, ch => {
		const code = ch.codePointAt(0)!;
		return code === 0x1b ? '\\e' : code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
	});
}

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
		.action(() => {
			const report = checkStore(cli.storePath);
			cli.print(report, () => render(report));
			cli.exitCode = report.healthy ? 0 : 1;
		});
}
