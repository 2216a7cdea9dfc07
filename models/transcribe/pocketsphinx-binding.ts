// koffi declarations for Debian's PocketSphinx 0.8+5prealpha (libpocketsphinx.so.3 and
// libsphinxbase.so.3). This is the old cmd_ln/ps_init API: 5.x renamed most of it, so the
// library names are pinned to the .so.3 sonames rather than the unversioned dev symlinks
// (which Debian only ships in the -dev packages). Opaque C structs are plain pointers here.
import koffi from "koffi";

// koffi runs async calls on a stack of its own, 128 KiB by default: too tight to trust for model
// loading and lattice search. At most one call per pooled decoder is in flight, so 2 MiB each is
// cheap. (Must be set before the first call through koffi.)
const ASYNC_STACK_BYTES = 2 * 1024 * 1024;
try {
  if ((koffi.config().async_stack_size ?? 0) < ASYNC_STACK_BYTES) koffi.config({ ...koffi.config(), async_stack_size: ASYNC_STACK_BYTES });
} catch {
  // Already fixed by an earlier call through koffi in this process: keep its settings.
}

const sphinxbase = koffi.load("libsphinxbase.so.3");
const pocketsphinx = koffi.load("libpocketsphinx.so.3");

/** Opaque pointer type shared by every handle (cmd_ln_t, ps_decoder_t, ps_seg_t, logmath_t). */
export type Handle = unknown;

export const cmd_ln_init = sphinxbase.func("void *cmd_ln_init(void *inout, void *defn, int strict, ...)");
export const cmd_ln_free_r = sphinxbase.func("int cmd_ln_free_r(void *config)");
export const cmn_live_get = sphinxbase.func("void cmn_live_get(void *cmn, _Out_ float *vec)");
export const cmn_live_set = sphinxbase.func("void cmn_live_set(void *cmn, const float *vec)");
export const logmath_exp = sphinxbase.func("double logmath_exp(void *lmath, int logb_p)");

export const ps_args = pocketsphinx.func("void *ps_args()");
export const ps_init = pocketsphinx.func("void *ps_init(void *config)");
export const ps_free = pocketsphinx.func("int ps_free(void *ps)");
// Frame numbers (hence word times) count from the last ps_start_stream, not from ps_start_utt.
export const ps_start_stream = pocketsphinx.func("int ps_start_stream(void *ps)");
export const ps_start_utt = pocketsphinx.func("int ps_start_utt(void *ps)");
export const ps_end_utt = pocketsphinx.func("int ps_end_utt(void *ps)");
export const ps_process_raw = pocketsphinx.func(
  "int ps_process_raw(void *ps, const int16_t *data, size_t n_samples, int no_search, int full_utt)",
);
export const ps_get_hyp = pocketsphinx.func("const char *ps_get_hyp(void *ps, _Out_ int32_t *out_best_score)");
export const ps_get_n_frames = pocketsphinx.func("int ps_get_n_frames(void *ps)");
export const ps_get_feat = pocketsphinx.func("void *ps_get_feat(void *ps)");
export const ps_get_logmath = pocketsphinx.func("void *ps_get_logmath(void *ps)");
// 5prealpha dropped the out_best_score argument that 0.8 had here.
export const ps_seg_iter = pocketsphinx.func("void *ps_seg_iter(void *ps)");
export const ps_seg_next = pocketsphinx.func("void *ps_seg_next(void *seg)");
export const ps_seg_word = pocketsphinx.func("const char *ps_seg_word(void *seg)");
export const ps_seg_frames = pocketsphinx.func("void ps_seg_frames(void *seg, _Out_ int *out_sf, _Out_ int *out_ef)");
export const ps_seg_prob = pocketsphinx.func(
  "int32_t ps_seg_prob(void *seg, _Out_ int32_t *out_ascr, _Out_ int32_t *out_lscr, _Out_ int32_t *out_lback)",
);
export const ps_seg_free = pocketsphinx.func("void ps_seg_free(void *seg)");

type BoundFunction = ReturnType<typeof sphinxbase.func>;

/** Runs a bound function on koffi's worker threads so the event loop stays free. */
export function callAsync<T>(fn: BoundFunction, ...args: unknown[]): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    fn.async(...args, (err: unknown, result: T) => (err ? reject(err) : resolve(result)));
  });
}

// There is no accessor for the live cepstral-mean state behind a decoder, so it is read from
// sphinxbase 5prealpha's feat_t (feat.h) on x86-64: int32 cepsize at byte 16, cmn_t *cmn_struct
// at byte 88; cmn_t (cmn.h) holds int32 veclen at byte 28. cepsizeMatches() guards the layout.
const FEAT_CEPSIZE_OFFSET = 16;
const FEAT_CMN_STRUCT_OFFSET = 88;
const CMN_VECLEN_OFFSET = 28;

/** The decoder's live CMN state and its vector length, or undefined if the layout does not match. */
export function liveCmn(decoder: Handle): { cmn: Handle; veclen: number } | undefined {
  if (process.arch !== "x64") return undefined;
  const feat = ps_get_feat(decoder);
  if (!feat) return undefined;
  const cepsize = koffi.decode(feat, FEAT_CEPSIZE_OFFSET, "int32_t") as number;
  const cmn = koffi.decode(feat, FEAT_CMN_STRUCT_OFFSET, "void *");
  if (!cmn || cepsize < 1 || cepsize > 64) return undefined;
  const veclen = koffi.decode(cmn, CMN_VECLEN_OFFSET, "int32_t") as number;
  return veclen === cepsize ? { cmn, veclen } : undefined;
}
