// Each test class starts its own PortWatch and Chromium; on a two-core machine running them side
// by side starves the scans and the browsers alike, so the classes run one after another.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
