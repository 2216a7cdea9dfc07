// What routing needs to know about an endpoint, as the control plane's live state provides it.
// Routing owns nothing of that state: it reads it on every new session.

export interface RoutableInstance {
  instanceId: string;
  host: string;
  port: number;
  pid?: number;
  logFile: string;
  /** Healthy and not retiring: eligible for new sessions. */
  inRotation: boolean;
}

export interface RoutableVariant {
  variantName: string;
  currentWeight: number;
  bidiCapable: boolean;
  instances: RoutableInstance[];
}

export interface RoutableEndpoint {
  endpointName: string;
  endpointArn: string;
  status: string;
  variants: RoutableVariant[];
}

export type EndpointLookup = (endpointName: string) => RoutableEndpoint | undefined;
