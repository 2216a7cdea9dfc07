// koffi declarations for Debian's libsoxr0 (libsoxr.so.0), the SoX resampler library.
import koffi from "koffi";

const soxr = koffi.load("libsoxr.so.0");

/** soxr_datatype_t SOXR_INT16_I: interleaved signed 16-bit. */
export const SOXR_INT16_I = 3;
/** soxr_io_spec_t.flags: no TPDF dither, so silence stays silence and output is repeatable. */
export const SOXR_NO_DITHER = 8;

koffi.struct("soxr_io_spec_t", {
  itype: "int",
  otype: "int",
  scale: "double",
  e: "void *",
  flags: "unsigned long",
});

// soxr_error_t is a const char * that is NULL on success. A NULL quality spec means SOXR_HQ.
export const soxr_create = soxr.func(
  "void *soxr_create(double input_rate, double output_rate, unsigned int num_channels, _Out_ const char **error, const soxr_io_spec_t *io_spec, void *quality_spec, void *runtime_spec)",
);
export const soxr_process = soxr.func(
  "const char *soxr_process(void *resampler, const int16_t *in, size_t ilen, _Out_ size_t *idone, _Out_ int16_t *out, size_t olen, _Out_ size_t *odone)",
);
export const soxr_delete = soxr.func("void soxr_delete(void *resampler)");
