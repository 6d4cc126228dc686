import type {ReactNode} from 'react';

export const STYLESHEET_PATH = '/static/orgctl.css';

type PageProps = {
	readonly title: string;
	/** The organization the page is about, shown above the title when known. */
	readonly tenant?: string | undefined;
	readonly children?: ReactNode;
};

/**
 * Every page of `orgctl serve`: one stylesheet from this server (no inline style, no script), a
 * viewport for phones, and no referrer ever sent on (the invitation link's secret is in the URL).
 */
export function Page({title, tenant, children}: PageProps) {
	return (
		<html lang="en">
			<head>
				<meta charSet="utf-8" />
				<meta name="viewport" content="width=device-width, initial-scale=1" />
				<meta name="referrer" content="no-referrer" />
				<meta name="robots" content="noindex, nofollow" />
				<title>{`${title} · orgctl`}</title>
				<link rel="stylesheet" href={STYLESHEET_PATH} />
			</head>
			<body>
				<main>
					<header>{tenant ? `orgctl · ${tenant}` : 'orgctl'}</header>
					<h1>{title}</h1>
					{children}
				</main>
			</body>
		</html>
	);
}

type FormProps = {
	readonly action: string;
	/** The CSRF token of this form (every form carries one; the server refuses a POST without it). */
	readonly csrf: string;
	readonly submit: string;
	readonly error?: string | undefined;
	readonly children?: ReactNode;
};

/** A POST form with its CSRF token and, after a refused try, the reason above the fields. */
export function Form({action, csrf, submit, error, children}: FormProps) {
	return (
		<form method="post" action={action}>
			{error ? (
				<p className="error" role="alert">
					{error}
				</p>
			) : null}
			<input type="hidden" name="_csrf" value={csrf} />
			{children}
			<button type="submit">{submit}</button>
		</form>
	);
}

type FieldProps = {
	readonly label: string;
	readonly name: string;
	readonly type?: 'text' | 'email' | 'password';
	readonly value?: string | undefined;
	readonly hint?: string | undefined;
	readonly autoComplete?: string;
	readonly readOnly?: boolean;
	readonly required?: boolean;
	readonly minLength?: number | undefined;
	readonly inputMode?: 'numeric' | 'email' | 'text';
};

export function Field({label, name, type = 'text', value, hint, autoComplete, readOnly, required = true, minLength, inputMode}: FieldProps) {
	return (
		<label>
			<span>
				{label} {hint ? <small>{hint}</small> : null}
			</span>
			<input
				name={name}
				type={type}
				{...(value === undefined ? {} : {defaultValue: value})}
				{...(autoComplete ? {autoComplete} : {})}
				{...(readOnly ? {readOnly: true} : {})}
				{...(required && !readOnly ? {required: true} : {})}
				{...(minLength ? {minLength} : {})}
				{...(inputMode ? {inputMode} : {})}
				{...(type === 'email' || name === 'username' ? {autoCapitalize: 'none', spellCheck: false} : {})}
			/>
		</label>
	);
}

export function Hidden({name, value}: {readonly name: string; readonly value: string | undefined}) {
	return value === undefined ? null : <input type="hidden" name={name} value={value} />;
}

/** A page that only says something: a dead link, an error, a finished step. */
export function MessagePage({title, message, tenant, children}: {readonly title: string; readonly message: string; readonly tenant?: string | undefined; readonly children?: ReactNode}) {
	return (
		<Page title={title} tenant={tenant}>
			<p>{message}</p>
			{children}
		</Page>
	);
}
