// Our own main so that a bare run already reports the median and spread of
// repeated runs (STYLE.md); flags given on the command line come later in
// argv and so override these defaults.
#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>

#include <vector>

int main(int argc, char** argv) {
  // The store logs every start and stop at info, once per benchmark run.
  spdlog::set_level(spdlog::level::warn);

  char repetitions[] = "--benchmark_repetitions=5";
  char aggregates[] = "--benchmark_report_aggregates_only=true";
  std::vector<char*> args{argv[0], repetitions, aggregates};
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  int count = static_cast<int>(args.size());
  args.push_back(nullptr);

  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
