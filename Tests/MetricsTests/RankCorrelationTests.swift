import Testing
@testable import Metrics

@Suite struct RankCorrelationTests {
    @Test func ranksShareTiesAndSpearmanFollowsOrderNotScale() {
        #expect(RankCorrelation.ranks([10, 30, 20, 20]) == [1, 4, 2.5, 2.5])
        #expect(RankCorrelation.spearman([1, 2, 3, 4], [1, 10, 100, 1000]) == 1)
        #expect(RankCorrelation.spearman([1, 2, 3, 4], [9, 7, 3, -1]) == -1)
        #expect(RankCorrelation.spearman([1, 2], [1, 2]) == nil)
        #expect(RankCorrelation.spearman([1, 2, 3], [5, 5, 5]) == nil)
        let rho = RankCorrelation.spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])!
        #expect(abs(rho - 0.8) < 1e-12)
    }
}
