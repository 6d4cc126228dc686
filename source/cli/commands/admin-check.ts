import type {Command} from 'commander';
import type {CliContext, StoreReport} from '../context.js';

const shownEscaped = (code: number) => code < 0x20 || (code >= 0x7f && code <= 0x9f) || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);

/** Control characters and bidirectional overrides shown escaped: a store file is foreign text (DESIGN §4a). */
function inert(text: string): string {
	let shown = '';
	for (const ch of text) {
		const code = ch.codePointAt(0)!;
		if (!shownEscaped(code)) shown += ch;
		else shown += code === 0x1b ? '\\e' : code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
	}
	return shown;
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
		.action(async () => {
			const report = await cli.checkStore();
			cli.print(report, () => render(report));
			cli.exitCode = report.healthy ? 0 : 1;
		});
}
