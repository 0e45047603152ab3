/** Reading AWS resource names and linking to the AWS console in the right partition and region. */

export interface Arn {
  partition: string;
  service: string;
  region: string;
  account: string;
  /** Everything after the account; may itself contain `:` (`alarm:my-alarm`). */
  resource: string;
}

/** Splits `arn:partition:service:region:account:resource`, or undefined for anything else. */
export function parseArn(value: string | undefined | null): Arn | undefined {
  if (!value) return undefined;
  const parts = value.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  const [, partition, service, region, account] = parts as [string, string, string, string, string];
  return { partition, service, region, account, resource: parts.slice(5).join(':') };
}

const CONSOLE_HOSTS: Record<string, (region: string) => string> = {
  aws: (region) => `${region}.console.aws.amazon.com`,
  'aws-cn': (region) => `${region}.console.amazonaws.cn`,
  'aws-us-gov': (region) => `${region}.console.amazonaws-us-gov.com`,
};

/**
 * A link into a service's console page, e.g. `awsConsoleUrl('aws', 'eu-west-1', 'cloudwatch',
 * '#alarmsV2:alarm/x')`; undefined for partitions without a public console or a malformed region.
 */
export function awsConsoleUrl(
  partition: string,
  region: string,
  service: string,
  fragment: string
): string | undefined {
  const host = CONSOLE_HOSTS[partition];
  if (!host || !/^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/.test(region)) return undefined;
  return `https://${host(region)}/${service}/home?region=${region}${fragment}`;
}
