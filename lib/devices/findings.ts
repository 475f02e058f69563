import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';

/**
 * When each device was first found in a sweep's condition, so that a device is acted on only
 * once sweeps have seen it that way for the grace period (as Endpoint Management's automated
 * actions do). A device no longer found is forgotten: found again, its grace starts over.
 */
export interface DeviceFindings {
  /**
   * The first time each of `deviceIds` was found by `sweep` (now for a new one). With `save`,
   * the sweep's findings become exactly these devices.
   */
  observe(
    sweep: string,
    deviceIds: readonly string[],
    now: Date,
    save: boolean,
  ): Promise<ReadonlyMap<string, Date>>;
}

/** Items of the limits table (key `counter`), one per sweep: `sweep-findings#<name>`. */
export const DEVICE_FINDINGS_KEY_PREFIX = 'sweep-findings#';

/** One item holds a sweep's findings: ~70 bytes each keeps it well under DynamoDB's 400 KB. */
export const MAX_DEVICE_FINDINGS = 4000;

const FindingsItemSchema = z.object({
  counter: z.string(),
  firstFound: z.record(z.string(), z.iso.datetime()),
});

export class DeviceFindingsError extends Error {
  override name = 'DeviceFindingsError';
}

export class DynamoDeviceFindings implements DeviceFindings {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(client: DynamoDBClient, tableName: string) {
    this.#documents = DynamoDBDocumentClient.from(client);
    this.#tableName = tableName;
  }

  async observe(
    sweep: string,
    deviceIds: readonly string[],
    now: Date,
    save: boolean,
  ): Promise<ReadonlyMap<string, Date>> {
    if (deviceIds.length > MAX_DEVICE_FINDINGS) {
      throw new DeviceFindingsError(
        `Sweep ${sweep} found ${deviceIds.length} devices; at most ${MAX_DEVICE_FINDINGS} can be followed through a grace period`,
      );
    }
    const key = `${DEVICE_FINDINGS_KEY_PREFIX}${sweep}`;
    const output = await this.#documents.send(
      new GetCommand({ TableName: this.#tableName, Key: { counter: key }, ConsistentRead: true }),
    );
    const stored =
      output.Item === undefined ? undefined : FindingsItemSchema.safeParse(output.Item);
    if (stored !== undefined && !stored.success) {
      throw new DeviceFindingsError(`The findings of sweep ${sweep} do not match the schema`, {
        cause: stored.error,
      });
    }
    const earlier = stored?.data.firstFound ?? {};
    const firstFound = new Map(
      deviceIds.map((id) => [id, new Date(earlier[id] ?? now.toISOString())] as const),
    );
    if (save) {
      await this.#documents.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: {
            counter: key,
            firstFound: Object.fromEntries(
              [...firstFound].map(([id, at]) => [id, at.toISOString()]),
            ),
            updatedAt: now.toISOString(),
          },
        }),
      );
    }
    return firstFound;
  }
}
