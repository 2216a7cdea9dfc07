// Memory limits for containers, from `ProductionVariant.InstanceType` (DESIGN §1): each container
// gets the memory of the instance SageMaker would have given it, so a model that fits here fits
// there. Sluice does not reserve it, it only caps it; CPU is not limited (all instances of one
// machine share its cores, as processes do).
//
// The rule follows the EC2 families SageMaker hosts on, by vCPU count and memory per vCPU:
//   size      medium  large  xlarge  2xlarge  4xlarge  8xlarge  9xlarge 12xlarge 16xlarge 18xlarge 24xlarge 32xlarge 48xlarge
//   vCPUs        2      2      4        8       16       32       36      48       64       72       96      128      192
//   GiB per vCPU: c* 2 · m*, t*, g*, inf*, trn* 4 · r* 8 · x* 16      (ml.t*.medium: 4 GiB)
// e.g. ml.m5.large 8 GiB, ml.c5.xlarge 8 GiB, ml.r5.large 16 GiB, ml.g5.2xlarge 32 GiB.
// An instance type the rule does not know gets no limit (or `defaultBytes` when given), and
// `overrides` (exact type → bytes) win over the rule.

const GiB = 1024 ** 3;

const VCPUS: Record<string, number> = {
  medium: 2, large: 2, xlarge: 4, "2xlarge": 8, "4xlarge": 16, "8xlarge": 32, "9xlarge": 36, "12xlarge": 48,
  "16xlarge": 64, "18xlarge": 72, "24xlarge": 96, "32xlarge": 128, "48xlarge": 192,
};

const GIB_PER_VCPU: Array<[RegExp, number]> = [
  [/^c\d/, 2],
  [/^(m|t|g)\d/, 4],
  [/^(inf|trn)\d/, 4],
  [/^r\d/, 8],
  [/^x\d/, 16],
];

export interface MemoryLimitOptions {
  overrides?: Record<string, number>;
  defaultBytes?: number;
}

/** The memory limit in bytes for `instanceType`, or undefined for none. */
export function memoryLimitBytes(instanceType: string | undefined, options: MemoryLimitOptions = {}): number | undefined {
  if (instanceType === undefined) return options.defaultBytes;
  const override = options.overrides?.[instanceType];
  if (override !== undefined) return override;
  const m = /^ml\.([a-z]+\d+[a-z-]*)\.([0-9]*[a-z]+)$/.exec(instanceType);
  if (!m) return options.defaultBytes;
  const [, family, size] = m;
  // Burstable mediums have 2 vCPUs but only 4 GiB.
  if (/^t\d/.test(family) && size === "medium") return 4 * GiB;
  const vcpus = VCPUS[size];
  const perVcpu = GIB_PER_VCPU.find(([re]) => re.test(family))?.[1];
  if (vcpus === undefined || perVcpu === undefined) return options.defaultBytes;
  return vcpus * perVcpu * GiB;
}
