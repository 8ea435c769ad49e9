// @peculiar/x509 needs a Reflect polyfill loaded before it (its README: "Reflect Polyfill Required").
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

// Certificates made in the test, in memory: a CA, server certificates for 127.0.0.1, and client certificates
// with a SPIFFE ID (URI SAN) or only a subject common name. ECDSA P-256, PEM out, as cert-manager would issue.

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

export interface LeafOptions {
  commonName?: string;
  /** URI SANs, e.g. a SPIFFE ID. */
  uris?: string[];
  /** A server certificate for 127.0.0.1 and localhost (else a client certificate). */
  server?: boolean;
  notAfter?: Date;
}

export interface TestCa {
  certPem: string;
  issue(options: LeafOptions): Promise<IssuedCertificate>;
}

async function keyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n`;
}

const serial = () => `01${randomBytes(8).toString('hex')}`;

export async function createCa(commonName: string): Promise<TestCa> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 24 * 3600_000),
    keys: keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certPem: ca.toString('pem'),
    async issue(options) {
      const leafKeys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
      const names = [
        ...(options.uris ?? []).map((value) => ({ type: 'url' as const, value })),
        ...(options.server ? [{ type: 'ip' as const, value: '127.0.0.1' }, { type: 'dns' as const, value: 'localhost' }] : []),
      ];
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: options.commonName ? `CN=${options.commonName}` : '',
        issuer: ca.subject,
        notBefore: new Date(Date.now() - 60_000),
        notAfter: options.notAfter ?? new Date(Date.now() + 24 * 3600_000),
        publicKey: leafKeys.publicKey,
        signingKey: keys.privateKey,
        signingAlgorithm: ALGORITHM,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([options.server ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
          await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey),
          ...(names.length ? [new x509.SubjectAlternativeNameExtension(names)] : []),
        ],
      });
      return { certPem: leaf.toString('pem'), keyPem: await keyPem(leafKeys.privateKey) };
    },
  };
}

/** Where writeGatewayTls put the gateway's TLS files: for server.tls (certFile, keyFile) and callers.mtls (caFile). */
export interface GatewayTlsFiles {
  certFile: string;
  keyFile: string;
  caFile: string;
}

/** The gateway's own certificate (issued by `ca`, for 127.0.0.1) and `ca` as the client CA, written into `dir`. */
export async function writeGatewayTls(ca: TestCa, dir: string): Promise<GatewayTlsFiles> {
  const files = { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), caFile: join(dir, 'ca.crt') };
  const serverCert = await ca.issue({ commonName: 'wallaroo-gateway', server: true });
  writeFileSync(files.certFile, serverCert.certPem);
  writeFileSync(files.keyFile, serverCert.keyPem);
  writeFileSync(files.caFile, ca.certPem);
  return files;
}
