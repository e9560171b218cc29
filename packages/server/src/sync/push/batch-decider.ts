import { ENTITY_REGISTRY, escapeUnstorable, jsonEquals, parseChangeData, type EntityType } from '@sync-engine/shared';
import { EntityStateMap, isUuid, type EntityState } from '../entity-state.ts';
import type { IdMap } from '../id-map.ts';
import { resolveMappedIdsInChange } from './resolve-mapped-ids.ts';
import type {
  AppliedRequest,
  ChangeRecord,
  ChangeError,
  ConflictOutcome,
  ConflictRecord,
  IdMappingEntry,
  MutationTrace,
  PushConflictEntry,
  PushFailedEntry,
  PushSuccessEntry,
  SuccessOutcome,
  SyncChangeInput,
} from './push-types.ts';

/** How a stale UPDATE is settled: the shared, config-driven merge core behind a port. */
export interface ConflictDecision {
  strategy: string;
  outcome: ConflictOutcome;
  /** The merged full state (for ADOPT_SERVER), else null. */
  resolvedState: Record<string, unknown> | null;
}
export type ConflictResolver = (input: {
  entityType: EntityType;
  local: Record<string, unknown>;
  server: EntityState;
  localUpdatedAt: string | undefined;
  serverUpdatedAt: string;
  localVersion: number;
  serverVersion: number;
}) => ConflictDecision;

export interface DecideContext {
  readonly userId: string;
  readonly deviceId: string;
  readonly catalogUserId: string;
  /** Server time of this batch (ISO). */
  readonly now: string;
  readonly resolveConflict: ConflictResolver;
  /** Fields a devices CREATE matched by macAddress still applies (its LOCAL_WINS fields). */
  readonly deviceLocalWinsFields: readonly string[];
  readonly newId: () => string;
}

/** What the batch read from the database, locked for this transaction. */
export interface BatchSnapshot {
  readonly states: EntityStateMap;
  readonly idMap: IdMap;
  /** requestIds of this user+device applied before (any earlier push). */
  readonly appliedRequests: Map<string, AppliedRequest>;
  /** Live devices of the user by macAddress. */
  readonly devicesByMac: Map<string, string>;
}

/** Everything a batch decided to write; written set-based in one transaction. */
export interface BatchWrites {
  /** Final state of each entity the batch changed (several changes collapse to the last). */
  readonly entities: Map<EntityType, Map<string, EntityState>>;
  readonly changes: ChangeRecord[];
  readonly mappings: IdMappingEntry[];
  readonly applied: AppliedRequest[];
  readonly conflicts: ConflictRecord[];
  /** Sessions whose consumptions changed: their derived aggregates are recomputed. */
  readonly sessionsToRecompute: Set<string>;
}

export interface BatchOutcome {
  readonly successful: PushSuccessEntry[];
  readonly failed: PushFailedEntry[];
  readonly conflicts: PushConflictEntry[];
  readonly idMappings: IdMappingEntry[];
  readonly mutations: MutationTrace[];
  readonly writes: BatchWrites;
}

/**
 * Decides every change of a batch in memory, in order, against the rows the batch locked:
 * validation, id remapping, conflict detection and merge. A rejected change is simply not
 * written, so it fails alone; later changes see the effect of earlier ones.
 */
export function decideBatch(
  ctx: DecideContext,
  snapshot: BatchSnapshot,
  changes: readonly { change: SyncChangeInput; index: number }[],
): BatchOutcome {
  return new BatchDecider(ctx, snapshot).run(changes);
}

class BatchDecider {
  private readonly out: BatchOutcome;

  constructor(
    private readonly ctx: DecideContext,
    private readonly snap: BatchSnapshot,
  ) {
    this.out = {
      successful: [],
      failed: [],
      conflicts: [],
      idMappings: [],
      mutations: [],
      writes: {
        entities: new Map(),
        changes: [],
        mappings: [],
        applied: [],
        conflicts: [],
        sessionsToRecompute: new Set(),
      },
    };
  }

  run(changes: readonly { change: SyncChangeInput; index: number }[]): BatchOutcome {
    for (const { change, index } of changes) {
      const started = performance.now();
      const trace = this.decide(change);
      this.out.mutations.push({
        index,
        requestId: change.requestId,
        entityType: change.entityType,
        entityId: change.entityId,
        changeType: change.changeType,
        payload: change.changeData,
        ...trace,
        durationMs: performance.now() - started,
      });
    }
    return this.out;
  }

  private decide(change: SyncChangeInput): Omit<MutationTrace, 'index' | 'requestId' | 'entityType' | 'entityId' | 'changeType' | 'payload' | 'durationMs'> {
    const applied = this.snap.appliedRequests.get(change.requestId);
    if (applied) {
      const state = this.snap.states.get(applied.entityType, applied.serverId) ?? null;
      // A resent CREATE (its first answer lost, e.g. a crash) reports its mapping again.
      if (change.changeType === 'CREATE') this.mapping(change.entityType, clientIdOf(change), applied.serverId, false);
      this.success(change, applied.serverId, applied.version, 'DUPLICATE');
      return { outcome: 'skipped', reason: { code: 'DUPLICATE_REQUEST' }, before: state, after: state };
    }
    switch (change.changeType) {
      case 'CREATE':
        return this.create(change);
      case 'UPDATE':
        return this.update(change);
      case 'DELETE':
        return this.delete(change);
    }
  }

  // ---- CREATE -------------------------------------------------------------------------

  private create(change: SyncChangeInput): ReturnType<BatchDecider['decide']> {
    const type = change.entityType;
    const clientId = clientIdOf(change);
    const existing = this.snap.idMap.get(type, clientId) ?? this.ownServerId(type, change.entityId);
    if (existing !== undefined) {
      const state = this.snap.states.get(type, existing) ?? null;
      this.mapping(type, clientId, existing, false);
      this.success(change, existing, state?.version ?? 0, 'DUPLICATE');
      return { outcome: 'skipped', reason: { code: 'DUPLICATE_CREATE' }, before: state, after: state };
    }
    const parsed = parseChangeData(type, 'CREATE', change.changeData);
    if (!parsed.ok) {
      return this.fail(change, false, { code: 'VALIDATION_ERROR', message: 'changeData is invalid', details: [...parsed.details] });
    }
    const resolved = resolveMappedIdsInChange(type, parsed.data, this.snap.idMap, this.snap.states);
    if (!resolved.ok) return this.fkNotFound(change, resolved.missing);
    const data = this.coerce(type, resolved.data);

    if (type === 'devices' && typeof data['macAddress'] === 'string') {
      const matched = this.snap.devicesByMac.get(data['macAddress']);
      if (matched !== undefined) return this.createMatchedDevice(change, clientId, matched, data);
    }

    const def = ENTITY_REGISTRY[type];
    const state: Record<string, unknown> = {
      id: this.ctx.newId(),
      userId: this.ctx.userId,
      version: 1,
      createdAt: this.ctx.now,
      updatedAt: this.ctx.now,
      deletedAt: null,
    };
    for (const [name, spec] of Object.entries(def.fields)) {
      state[name] = name in data && !spec.derived ? data[name] : structuredClone(spec.defaultValue);
    }
    const created = state as EntityState;
    this.write(type, created, 'CREATE', this.ctx.deviceId, change.requestId);
    if (type === 'devices' && typeof created['macAddress'] === 'string') {
      this.snap.devicesByMac.set(created['macAddress'], created.id);
    }
    this.mapping(type, clientId, created.id, true);
    this.noteApplied(change, created);
    this.success(change, created.id, created.version, 'APPLIED');
    return { outcome: 'applied', reason: null, before: null, after: created };
  }

  /** A devices CREATE naming a live device's macAddress becomes that device. */
  private createMatchedDevice(
    change: SyncChangeInput,
    clientId: string,
    serverId: string,
    data: Record<string, unknown>,
  ): ReturnType<BatchDecider['decide']> {
    const current = this.mustGet('devices', serverId);
    const patch: Record<string, unknown> = {};
    for (const f of this.ctx.deviceLocalWinsFields) {
      if (f in data && !jsonEquals(data[f], current[f])) patch[f] = data[f];
    }
    this.mapping('devices', clientId, serverId, true);
    if (Object.keys(patch).length === 0) {
      this.success(change, serverId, current.version, 'DUPLICATE');
      return { outcome: 'skipped', reason: { code: 'DEVICE_MATCHED_BY_MAC' }, before: current, after: current };
    }
    const next = this.bump(current, patch);
    this.write('devices', next, 'UPDATE', this.ctx.deviceId, change.requestId);
    this.noteApplied(change, next);
    this.success(change, serverId, next.version, 'APPLIED');
    return { outcome: 'applied', reason: { code: 'DEVICE_MATCHED_BY_MAC' }, before: current, after: next };
  }

  // ---- UPDATE -------------------------------------------------------------------------

  private update(change: SyncChangeInput): ReturnType<BatchDecider['decide']> {
    const type = change.entityType;
    const serverId = this.resolveTarget(change);
    const current = serverId === undefined ? undefined : this.snap.states.get(type, serverId);
    if (serverId === undefined || current === undefined) {
      return this.fail(change, false, { code: 'NOT_FOUND', message: `No ${type} entity ${change.entityId}` });
    }
    if (ENTITY_REGISTRY[type].appendOnly) {
      this.success(change, serverId, current.version, 'SKIPPED');
      return { outcome: 'skipped', reason: { code: 'APPEND_ONLY' }, before: current, after: current };
    }
    const parsed = parseChangeData(type, 'UPDATE', change.changeData);
    if (!parsed.ok) {
      return this.fail(change, false, { code: 'VALIDATION_ERROR', message: 'changeData is invalid', details: [...parsed.details] });
    }
    const resolved = resolveMappedIdsInChange(type, parsed.data, this.snap.idMap, this.snap.states);
    if (!resolved.ok) return this.fkNotFound(change, resolved.missing);
    const patch = this.coerce(type, resolved.data);

    if (current.deletedAt !== null) {
      // The tombstone wins over any edit; the client adopts it.
      this.conflict(change, current, patch, 'SERVER_WINS', 'ADOPT_SERVER', current, 'RESOLVED');
      return { outcome: 'conflict', reason: { code: 'ENTITY_DELETED' }, before: current, after: current };
    }

    if (change.syncVersion < current.version) return this.staleUpdate(change, current, patch);

    const next = this.bump(current, patch);
    this.write(type, next, 'UPDATE', this.ctx.deviceId, change.requestId);
    this.noteApplied(change, next);
    this.success(change, serverId, next.version, 'APPLIED');
    return { outcome: 'applied', reason: null, before: current, after: next };
  }

  /** A stale UPDATE is always recorded as a conflict and settled by the entity's config. */
  private staleUpdate(
    change: SyncChangeInput,
    current: EntityState,
    patch: Record<string, unknown>,
  ): ReturnType<BatchDecider['decide']> {
    const type = change.entityType;
    const decision = this.ctx.resolveConflict({
      entityType: type,
      local: patch,
      server: current,
      localUpdatedAt: change.updatedAt,
      serverUpdatedAt: current.updatedAt,
      localVersion: change.syncVersion,
      serverVersion: current.version,
    });
    const reason = { code: 'VERSION_CONFLICT', clientVersion: change.syncVersion, serverVersion: current.version };
    if (decision.outcome !== 'ADOPT_SERVER' || decision.resolvedState === null) {
      const pending = decision.outcome === 'MANUAL_REQUIRED';
      this.conflict(change, current, patch, decision.strategy, decision.outcome, null, pending ? 'PENDING' : 'RESOLVED');
      return { outcome: 'conflict', reason, before: current, after: current };
    }
    const mergedFields: Record<string, unknown> = {};
    for (const name of Object.keys(ENTITY_REGISTRY[type].fields)) {
      if (name in decision.resolvedState && !jsonEquals(decision.resolvedState[name], current[name])) {
        mergedFields[name] = decision.resolvedState[name];
      }
    }
    let final = current;
    if (Object.keys(mergedFields).length > 0) {
      // A merge is the server's own change: every device, the pusher too, pulls it.
      final = this.bump(current, mergedFields);
      this.write(type, final, 'UPDATE', null, change.requestId);
    }
    this.conflict(change, current, patch, decision.strategy, 'ADOPT_SERVER', final, 'RESOLVED');
    return { outcome: 'conflict', reason, before: current, after: final };
  }

  // ---- DELETE -------------------------------------------------------------------------

  private delete(change: SyncChangeInput): ReturnType<BatchDecider['decide']> {
    const type = change.entityType;
    const serverId = this.resolveTarget(change);
    const current = serverId === undefined ? undefined : this.snap.states.get(type, serverId);
    if (serverId === undefined || current === undefined) {
      // Nothing to delete: the client's id is all there is to report.
      this.success(change, serverId ?? change.entityId, 0, 'SKIPPED');
      return { outcome: 'skipped', reason: { code: 'NOT_FOUND' }, before: null, after: null };
    }
    if (current.deletedAt !== null || ENTITY_REGISTRY[type].appendOnly) {
      this.success(change, serverId, current.version, 'SKIPPED');
      const code = current.deletedAt !== null ? 'ALREADY_DELETED' : 'APPEND_ONLY';
      return { outcome: 'skipped', reason: { code }, before: current, after: current };
    }
    // DELETE always wins, even when stale.
    const next = this.bump(current, { deletedAt: this.ctx.now });
    this.write(type, next, 'DELETE', this.ctx.deviceId, change.requestId);
    this.noteApplied(change, next);
    this.success(change, serverId, next.version, 'APPLIED');
    return { outcome: 'applied', reason: null, before: current, after: next };
  }

  // ---- helpers ------------------------------------------------------------------------

  /** The server id a change names: by client id mapping first, then as a server id of the user. */
  private resolveTarget(change: SyncChangeInput): string | undefined {
    for (const id of [change.entityId, change.clientId]) {
      if (id === undefined) continue;
      const mapped = this.snap.idMap.get(change.entityType, id) ?? this.ownServerId(change.entityType, id);
      if (mapped !== undefined) return mapped;
    }
    return undefined;
  }

  /** `id` as the canonical (lower-case) server id of one of the user's entities, if it is one. */
  private ownServerId(type: EntityType, id: string): string | undefined {
    return isUuid(id) ? this.snap.states.get(type, id)?.id : undefined;
  }

  /** Products may only be public for the catalog user; anyone else's `true` becomes `false`. */
  private coerce(type: EntityType, data: Record<string, unknown>): Record<string, unknown> {
    if (type === 'products' && data['isPublic'] === true && this.ctx.userId !== this.ctx.catalogUserId) {
      return { ...data, isPublic: false };
    }
    return data;
  }

  private bump(current: EntityState, patch: Record<string, unknown>): EntityState {
    return { ...current, ...patch, version: current.version + 1, updatedAt: this.ctx.now };
  }

  private mustGet(type: EntityType, id: string): EntityState {
    const state = this.snap.states.get(type, id);
    if (!state) throw new Error(`invariant: ${type} ${id} was matched but not loaded`);
    return state;
  }

  private write(
    type: EntityType,
    state: EntityState,
    changeType: ChangeRecord['changeType'],
    originDeviceId: string | null,
    requestId: string,
  ): void {
    const before = this.snap.states.get(type, state.id);
    this.snap.states.set(type, state);
    let byId = this.out.writes.entities.get(type);
    if (!byId) {
      byId = new Map();
      this.out.writes.entities.set(type, byId);
    }
    byId.set(state.id, state);
    this.out.writes.changes.push({ entityType: type, entityId: state.id, changeType, version: state.version, originDeviceId, requestId });
    if (type === 'consumptions') {
      for (const s of [before?.['sessionId'], state['sessionId']]) {
        if (typeof s === 'string') this.out.writes.sessionsToRecompute.add(s);
      }
    }
  }

  private mapping(type: EntityType, clientId: string, serverId: string, persist: boolean): void {
    const entry = { entityType: type, clientId, serverId };
    if (clientId !== serverId) this.out.idMappings.push(entry);
    if (persist && clientId !== serverId && this.snap.idMap.get(type, clientId) === undefined) {
      this.snap.idMap.set(type, clientId, serverId);
      this.out.writes.mappings.push(entry);
    }
  }

  private noteApplied(change: SyncChangeInput, state: EntityState): void {
    const applied: AppliedRequest = {
      requestId: change.requestId,
      entityType: change.entityType,
      serverId: state.id,
      changeType: change.changeType,
      version: state.version,
    };
    this.snap.appliedRequests.set(change.requestId, applied);
    this.out.writes.applied.push(applied);
  }

  private success(change: SyncChangeInput, serverId: string, version: number, outcome: SuccessOutcome): void {
    this.out.successful.push({
      requestId: change.requestId,
      clientId: clientIdOf(change),
      entityType: change.entityType,
      entityId: change.entityId,
      serverId,
      changeType: change.changeType,
      version,
      outcome,
    });
  }

  private fail(change: SyncChangeInput, retryable: boolean, raw: ChangeError): ReturnType<BatchDecider['decide']> {
    const error = storableError(raw);
    this.out.failed.push({
      requestId: change.requestId,
      clientId: clientIdOf(change),
      entityType: change.entityType,
      entityId: change.entityId,
      retryable,
      error,
    });
    return { outcome: 'rejected', reason: error, before: null, after: null };
  }

  private fkNotFound(change: SyncChangeInput, missing: readonly string[]): ReturnType<BatchDecider['decide']> {
    return this.fail(change, true, {
      code: 'FK_NOT_FOUND',
      message: `Required reference not found: ${missing.join(', ')}`,
      details: missing.map((f) => ({ field: `changeData.${f}`, message: 'names no entity of this user' })),
    });
  }

  private conflict(
    change: SyncChangeInput,
    server: EntityState,
    clientData: Record<string, unknown>,
    strategy: string,
    outcome: ConflictOutcome,
    resolved: EntityState | null,
    status: 'PENDING' | 'RESOLVED',
  ): void {
    const id = this.ctx.newId();
    this.out.writes.conflicts.push({
      id,
      entityType: change.entityType,
      entityId: server.id,
      clientId: clientIdOf(change),
      requestId: change.requestId,
      strategy,
      outcome,
      status,
      resolution: status === 'RESOLVED' ? 'AUTO' : null,
      clientVersion: change.syncVersion,
      serverVersion: server.version,
      clientData,
      serverData: server,
      resolvedData: resolved,
      resolvedAt: status === 'RESOLVED' ? this.ctx.now : null,
    });
    this.out.conflicts.push({
      conflictId: id,
      requestId: change.requestId,
      clientId: clientIdOf(change),
      entityType: change.entityType,
      entityId: change.entityId,
      serverId: server.id,
      strategy,
      outcome,
      clientVersion: change.syncVersion,
      serverVersion: server.version,
      serverState: server,
      resolvedState: resolved,
    });
  }
}

/**
 * The answer is stored (jsonb) and sent as text, neither of which can hold NUL or an unpaired
 * surrogate; a detail naming a field whose key holds one (an unknown field) shows it escaped
 * (`\u0000`, `\ud800`).
 */
function storableError(error: ChangeError): ChangeError {
  const clean = escapeUnstorable;
  return {
    ...error,
    message: clean(error.message),
    ...(error.details ? { details: error.details.map((d) => ({ field: clean(d.field), message: clean(d.message) })) } : {}),
  };
}

function clientIdOf(change: SyncChangeInput): string {
  return change.clientId ?? change.entityId;
}

