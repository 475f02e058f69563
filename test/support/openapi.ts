import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Ajv } from 'ajv';
import ajvFormats from 'ajv-formats';
import { OpenAPIBackend } from 'openapi-backend';

// ajv-formats is CommonJS: its function is the module itself under Node's ESM interop.
const addFormats = ajvFormats as unknown as (ajv: Ajv) => Ajv;

/** The repository's copy of `shared/specs/endpoint-management.openapi.yaml` (kept identical). */
export const ENDPOINT_MANAGEMENT_SPEC = fileURLToPath(
  new URL('../../specs/endpoint-management.openapi.yaml', import.meta.url),
);
/** The shared original, present beside the repository on developer machines and in CI. */
export const SHARED_ENDPOINT_MANAGEMENT_SPEC = fileURLToPath(
  new URL('../../../shared/specs/endpoint-management.openapi.yaml', import.meta.url),
);

export function sharedSpecText(): string | undefined {
  return existsSync(SHARED_ENDPOINT_MANAGEMENT_SPEC)
    ? readFileSync(SHARED_ENDPOINT_MANAGEMENT_SPEC, 'utf8')
    : undefined;
}

export interface OpenApiRequest {
  readonly method: string;
  /** Path relative to the server URL, e.g. `/device/wipe` (no `/xenmobile/api/v1`). */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: unknown;
}

export interface OpenApiCheck {
  readonly valid: boolean;
  readonly operationId?: string;
  readonly errors: string[];
}

/**
 * Validates requests and responses against the Endpoint Management OpenAPI document with
 * openapi-backend (Ajv, all errors, formats checked). A request to a path the document does not
 * describe is invalid, with the error "unknown operation".
 */
export class EndpointManagementOpenApi {
  readonly #api: OpenAPIBackend;

  private constructor(api: OpenAPIBackend) {
    this.#api = api;
  }

  static async load(): Promise<EndpointManagementOpenApi> {
    const api = new OpenAPIBackend({
      definition: ENDPOINT_MANAGEMENT_SPEC,
      strict: true,
      validate: true,
      quick: false,
      ajvOpts: { allErrors: true, strict: false },
      customizeAjv: (ajv) => {
        addFormats(ajv as unknown as Ajv);
        return ajv;
      },
    });
    await api.init();
    return new EndpointManagementOpenApi(api);
  }

  validateRequest(request: OpenApiRequest): OpenApiCheck {
    const operation = this.#api.matchOperation({ ...request, body: request.body as never });
    if (operation === undefined) {
      return { valid: false, errors: [`unknown operation ${request.method} ${request.path}`] };
    }
    const result = this.#api.validateRequest(
      { ...request, body: request.body as never },
      operation,
    );
    return {
      valid: result.valid,
      operationId: operation.operationId,
      errors: (result.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`),
    };
  }

  validateResponse(operationId: string, status: number, body: unknown): OpenApiCheck {
    const operation = this.#api.getOperation(operationId);
    if (operation === undefined) return { valid: false, errors: [`unknown ${operationId}`] };
    const result = this.#api.validateResponse(body, operation, status);
    return {
      valid: result.valid,
      operationId,
      errors: (result.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`),
    };
  }
}
