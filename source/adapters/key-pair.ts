import {generateKeyPair, randomBytes} from 'node:crypto';
import {promisify} from 'node:util';
import type {KeyPair} from '../core/context.js';

const generate = promisify(generateKeyPair);

/**
 * An RSA-2048 key pair (Node's own generator) and a self-signed X.509 certificate for it, signed
 * with SHA-256. Node can parse certificates but not write them; node-forge writes this one (a
 * well-kept library, where hand-written DER would be easy to get subtly wrong).
 */
export async function makeKeyPair(request: {readonly commonName: string; readonly notBefore: Date; readonly days: number}): Promise<KeyPair> {
	const {privateKey, publicKey} = await generate('rsa', {
		modulusLength: 2048,
		publicKeyEncoding: {type: 'spki', format: 'pem'},
		privateKeyEncoding: {type: 'pkcs8', format: 'pem'},
	});
	const {default: forge} = await import('node-forge');
	const cert = forge.pki.createCertificate();
	cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
	// A positive serial of 16 random bytes (RFC 5280: at most 20 octets, not negative).
	cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
	cert.validity.notBefore = request.notBefore;
	cert.validity.notAfter = new Date(request.notBefore.getTime() + request.days * 86_400_000);
	const name = [{name: 'commonName', value: request.commonName.slice(0, 64)}];
	cert.setSubject(name);
	cert.setIssuer(name);
	cert.setExtensions([
		{name: 'basicConstraints', cA: false},
		{name: 'keyUsage', digitalSignature: true, keyEncipherment: true},
	]);
	cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
	return {privateKeyPem: privateKey, certificatePem: forge.pki.certificateToPem(cert)};
}
