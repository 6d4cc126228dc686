import type {Command} from 'commander';
import type {CliContext, CopyStoreReport} from '../context.js';

function renderCopy(report: CopyStoreReport): string {
	const counts = Object.entries(report.counts)
		.filter(([part]) => part !== 'settings')
		.map(([part, n]) => `${part} ${n.toLocaleString('en-US')}`)
		.join(', ');
	const lines = [`Copied ${report.records.toLocaleString('en-US')} records from ${report.from} to ${report.to}, each read back from the copy and equal to the original:`, `  ${counts}, and the settings.`];
	const {keyFile} = report;
	if (keyFile.copied) lines.push(`The key file that seals its secrets was copied to ${keyFile.to} (mode 0600).`);
	else if (report.to.startsWith('postgres')) {
		lines.push(`Its secrets stay sealed with the key file ${keyFile.from}: every host that uses ${report.to} needs a copy of it (mode 0600) at ${keyFile.to}, or named by --key-file or ORGCTL_KEY_FILE.`);
	}
	lines.push(`The original is unchanged; point --store (or ORGCTL_STORE) at ${report.to} on every host to use the copy.`);
	return `${lines.join('\n')}\n`;
}

/** `orgctl admin migrate` and `orgctl admin copy-store FROM TO`: the store's schema, and moving between the file and PostgreSQL. */
export function registerAdminStore(admin: Command, cli: CliContext): void {
	admin
		.command('migrate')
		.description('apply the schema migrations this orgctl ships to a PostgreSQL store (once every host runs this orgctl; two hosts never migrate at once)')
		.action(async () => {
			const report = await cli.migrateStore();
			cli.print(report, () => {
				if (report.backend === 'file') return `The store file ${report.store} is at this orgctl's schema version (a file migrates itself when opened, keeping a backup of the old version).\n`;
				if (report.applied.length === 0) return `${report.store} is up to date: no migration was pending.\n`;
				return `Applied to ${report.store}: ${report.applied.join(', ')}.\n`;
			});
		});
	admin
		.command('copy-store')
		.description('copy a whole store into a new file or an empty PostgreSQL database, either way, and verify it record by record')
		.argument('<from>', 'the store to copy: a file path or postgres://USER@HOST/DATABASE (unchanged)')
		.argument('<to>', 'a new file path, or an empty PostgreSQL database or schema')
		.action(async (from: string, to: string) => {
			const report = await cli.copyStore(from, to);
			cli.print(report, () => renderCopy(report));
		});
}
