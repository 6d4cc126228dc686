/**
 * The limits of a SAML response that callers outside the XML checks need (the web side's body limit,
 * the SSO settings' words), apart from response.ts so that naming them does not load an XML parser:
 * every `orgctl` command imports the core, and only a sign-in reads XML.
 */

/** Clocks of the IdP and ours may differ this much, either way. */
export const CLOCK_SKEW_MS = 60_000;
/** The largest SAMLResponse form field accepted (base64); real ones are a few kilobytes. */
export const MAX_RESPONSE_BYTES = 256 * 1024;
