import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  Table,
  TableEncryption,
  type TableProps,
} from 'aws-cdk-lib/aws-dynamodb';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import {
  ACTIONS_TABLE_INDEX_NAMES,
  ACTIONS_TABLE_INDEXES,
  projectedAttributesOf,
} from '../lib/actions/list.ts';

/**
 * The stack's state, built one way: every table and every secret is kept when the stack is
 * deleted (records, audit trail and credentials outlive a redeployment).
 */

/** On demand, point-in-time recovery, AWS-managed encryption, kept on stack deletion. */
export function retainedTable(
  scope: Construct,
  id: string,
  props: Pick<TableProps, 'partitionKey' | 'sortKey' | 'timeToLiveAttribute'>,
): Table {
  return new Table(scope, id, {
    ...props,
    billingMode: BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: TableEncryption.AWS_MANAGED,
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

/**
 * The action records, by `actionId` (session batch items beside them), removed by TTL, with the
 * indexes `GET /v1/actions` queries (lib/actions/list.ts): each projects the listed fields only.
 * CloudFormation adds one index per stack update: a stack deployed before these indexes existed
 * gets them in two deployments, one index each (records created before then are not listed).
 */
export function actionsTable(scope: Construct, id: string): Table {
  const table = retainedTable(scope, id, {
    partitionKey: { name: 'actionId', type: AttributeType.STRING },
    timeToLiveAttribute: 'expiresAt',
  });
  for (const index of ACTIONS_TABLE_INDEX_NAMES) {
    const keys = ACTIONS_TABLE_INDEXES[index];
    table.addGlobalSecondaryIndex({
      indexName: index,
      partitionKey: { name: keys.partitionKey, type: AttributeType.STRING },
      sortKey: { name: keys.sortKey, type: AttributeType.STRING },
      projectionType: ProjectionType.INCLUDE,
      nonKeyAttributes: projectedAttributesOf(index),
    });
  }
  return table;
}

export interface GeneratedSecretProps {
  readonly description: string;
  /** The JSON the secret starts with; the generated value is added under `generatedKey`. */
  readonly template: Readonly<Record<string, unknown>>;
  readonly generatedKey: string;
  readonly length: number;
  /** Why Secrets Manager cannot rotate it (acknowledges cdk-nag AwsSolutions-SMG4). */
  readonly manualRotation: string;
}

/**
 * A secret whose value CloudFormation generates (letters and digits only), so that no value is
 * ever in the template; the operator stores the real one with `put-secret-value`. Kept on stack
 * deletion: the other side (Citrix, a source tool, a callback receiver) holds it too.
 */
export function generatedSecret(scope: Construct, id: string, props: GeneratedSecretProps): Secret {
  const secret = new Secret(scope, id, {
    description: props.description,
    generateSecretString: {
      secretStringTemplate: JSON.stringify(props.template),
      generateStringKey: props.generatedKey,
      passwordLength: props.length,
      excludePunctuation: true,
      includeSpace: false,
    },
    removalPolicy: RemovalPolicy.RETAIN,
  });
  Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: props.manualRotation });
  return secret;
}

/**
 * A Standard Webhooks secret used as a raw key: `{"signingSecret": "<64 letters and digits>"}`.
 * CloudFormation cannot generate the `whsec_<base64>` form, so the functions use the string as
 * the raw HMAC key (UTF-8 bytes, standardwebhooks `format: 'raw'`); a `whsec_` value stored
 * later works as well.
 */
export const SIGNING_SECRET = { template: {}, generatedKey: 'signingSecret', length: 64 } as const;
