/**
 * A store address that names a PostgreSQL database: `postgres://user@host:port/db` (or
 * `postgresql://`), with libpq's parameters after `?` (`sslmode=`, `options=-c search_path=…`).
 * Anything else is a path to a store file.
 */
export function isPostgresAddress(address: string): boolean {
	return /^postgres(ql)?:\/\//i.test(address);
}

/**
 * The address as orgctl shows it and keys sessions by: without the password (a password in the
 * address is read and never printed; PGPASSWORD or ~/.pgpass keep it out of the process list).
 */
export function displayAddress(address: string): string {
	let url: URL;
	try {
		url = new URL(address);
	} catch {
		return address.replace(/:\/\/([^/@:]*):[^/@]*@/, '://$1@');
	}
	url.password = '';
	return url.toString();
}

/** Why an address cannot be used, or undefined when it can. */
export function addressProblem(address: string): string | undefined {
	let url: URL;
	try {
		url = new URL(address);
	} catch {
		return `${displayAddress(address)} is not a valid postgres:// address`;
	}
	if (url.pathname.replace(/^\//, '') === '') return `${displayAddress(address)} names no database: add it after the host, as in postgres://orgctl@db.example.com/orgctl`;
	return undefined;
}
