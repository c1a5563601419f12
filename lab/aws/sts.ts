// The lab's STS (Query protocol, Version=2011-06-15): GetCallerIdentity, for the harness's account
// check. The account is 123456789012 (the lab world's) unless LAB_ACCOUNT_ID says otherwise, so a
// test can play "credentials of the wrong account". Credentials are never checked.
import { ACCOUNT_ID } from './model.js';
import { AwsError, xml, type QueryParams, type XmlNode } from './wire.js';

export const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

export function labAccountId(env: NodeJS.ProcessEnv = process.env): string {
  const a = env.LAB_ACCOUNT_ID ?? ACCOUNT_ID;
  if (!/^\d{12}$/.test(a)) throw new Error(`LAB_ACCOUNT_ID must be a 12-digit account id, got "${a}"`);
  return a;
}

export interface StsIdentity { account: string; arn: string; userId: string }

export function labIdentity(account: string): StsIdentity {
  return { account, arn: `arn:aws:iam::${account}:user/lab`, userId: 'AIDALABUSER0EXAMPLE1' };
}

export function stsHandle(action: string, _p: QueryParams, who: StsIdentity): XmlNode {
  switch (action) {
    case 'GetCallerIdentity': return { UserId: who.userId, Account: who.account, Arn: who.arn };
    default: throw new AwsError('InvalidAction', `Could not find operation ${action || '(none)'} for version 2011-06-15`);
  }
}

export function stsResponse(action: string, result: XmlNode, reqId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${STS_NS}"><${action}Result>${xml(result, 'member')}</${action}Result><ResponseMetadata><RequestId>${reqId}</RequestId></ResponseMetadata></${action}Response>`;
}

export function stsError(err: AwsError, reqId: string): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${STS_NS}"><Error><Type>${err.status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${esc(err.code)}</Code><Message>${esc(err.message)}</Message></Error><RequestId>${reqId}</RequestId></ErrorResponse>`;
}

/** The service a SigV4-signed request was signed for: `Credential=AKID/DATE/REGION/SERVICE/aws4_request`. */
export function signedService(authorization: string | undefined): string | undefined {
  return /Credential=[^/,\s]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(authorization ?? '')?.[1];
}
