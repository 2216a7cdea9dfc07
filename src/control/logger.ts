// The slice of pino's API the control plane logs through; the server passes its pino logger
// (child with the component name), tests pass nothing.

export interface ControlLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: ControlLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
