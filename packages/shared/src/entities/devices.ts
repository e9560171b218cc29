import { defineEntity } from './define-entity.ts';
import { field } from './field.ts';

/** Devices; a CREATE whose macAddress matches a live device of the user maps to it. */
export const DEVICES = defineEntity('devices', {
  deviceName: field.text(),
  settings: field.object(),
  macAddress: field.text(),
  serialNumber: field.text(),
  firmwareVersion: field.text(),
});
