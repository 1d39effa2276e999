using PortWatch.Scanning.Syn;

namespace PortWatch.Scanning.Tests.Syn;

public class RateControllerTests
{
    /// <summary>Feeds cohorts 100 ms apart: of 1,000 probes that answer, a share <c>loss</c> loses its first try.</summary>
    private sealed class Feed(RateController controller)
    {
        private TimeSpan now;

        /// <summary>A cohort sent at the controller's current rate (or at <paramref name="sentAt"/>).</summary>
        public bool Cohort(double loss, int? sentAt = null)
        {
            now += TimeSpan.FromMilliseconds(100);
            return controller.Observe(sentAt ?? controller.Rate, (long)Math.Round(1000 * (1 - loss)), (long)Math.Round(1000 * loss * (1 - loss)), now);
        }
    }

    [Fact]
    public void Observe_LossRisesAboveTheCleanLevel_BacksOffAndSaysWhy()
    {
        var controller = new RateController(100_000);
        var feed = new Feed(controller);
        feed.Cohort(0.01);
        feed.Cohort(0.01);

        Assert.True(feed.Cohort(0.30));

        Assert.Equal(60_000, controller.Rate);
        Assert.Equal("backed off from 100000/s: 30.0% of probes lost, answered only when re-sent (1.0% when the path was clean)", controller.Reason);
        Assert.True(controller.Saturated(TimeSpan.FromMilliseconds(400)));
    }

    /// <summary>A path that loses 3% whatever the rate is not saturated: slowing down would cost time and win nothing.</summary>
    [Fact]
    public void Observe_ConstantLossAtAnyRate_NeverBacksOff()
    {
        var controller = new RateController(100_000);
        var feed = new Feed(controller);

        for (var i = 0; i < 50; i++)
            Assert.False(feed.Cohort(0.03));

        Assert.Equal(100_000, controller.Rate);
        Assert.Null(controller.Reason);
    }

    /// <summary>Cohorts sent before a back-off still come in lossy: they must not push the rate down again and again.</summary>
    [Fact]
    public void Observe_LossyCohortsSentBeforeTheBackOff_DoNotBackOffAgain()
    {
        var controller = new RateController(100_000);
        var feed = new Feed(controller);
        feed.Cohort(0.0);
        feed.Cohort(0.6);
        Assert.Equal(40_000, controller.Rate);

        for (var i = 0; i < 5; i++)
            Assert.False(feed.Cohort(0.6, sentAt: 100_000));
        Assert.Equal(40_000, controller.Rate);

        feed.Cohort(0.3); // sent at 40,000/s: better, but still saturated
        Assert.Equal(24_000, controller.Rate);
    }

    [Fact]
    public void Observe_CleanAgainAfterBackingOff_CreepsBackUpToTheCeiling()
    {
        var controller = new RateController(100_000);
        var feed = new Feed(controller);
        feed.Cohort(0.0);
        feed.Cohort(0.5);
        var rates = new List<int>();

        for (var i = 0; i < 40; i++)
        {
            feed.Cohort(0.0);
            rates.Add(controller.Rate);
        }

        Assert.Contains(rates, r => r is > 50_000 and < 100_000);
        Assert.Equal(100_000, controller.Rate);
        Assert.Null(controller.Reason);
        Assert.Equal(rates.Order(), rates); // up only, a step at a time
    }

    /// <summary>
    /// Backed off far below the ceiling (a 20,000/s policer under a 200,000/s ceiling), the rate climbs by a tenth of
    /// itself: a twentieth of the ceiling would jump from 15,000/s to 25,000/s, over the policer again at once.
    /// </summary>
    [Fact]
    public void Observe_CleanFarBelowTheCeiling_CreepsByATenthOfTheRate()
    {
        var controller = new RateController(200_000);
        var feed = new Feed(controller);
        feed.Cohort(0.0);
        for (var i = 0; i < 3; i++)
            feed.Cohort(0.6); // each a back-off to 40%: 80,000, 32,000, 12,800
        Assert.Equal(12_800, controller.Rate);
        var rates = new List<int> { controller.Rate };

        for (var i = 0; i < 12; i++)
        {
            feed.Cohort(0.0);
            rates.Add(controller.Rate);
        }

        var steps = rates.Zip(rates.Skip(1), (before, after) => (before, after)).Where(s => s.after != s.before).ToList();
        Assert.Equal(4, steps.Count);
        Assert.All(steps, s => Assert.InRange(s.after, s.before + 1, s.before * 1.1 + 1));
        Assert.Equal("creeping back up after a back-off: 0.0% of probes lost, as when the path was clean", controller.Reason);
    }

    /// <summary>The worst loss of the last seconds stays known after the rate has recovered, then is forgotten.</summary>
    [Fact]
    public void RecentLoss_AfterALossySample_IsItsLossForAFewSecondsThenNothing()
    {
        var controller = new RateController(100_000);
        var feed = new Feed(controller);
        Assert.Equal(0, controller.RecentLoss(TimeSpan.Zero));
        feed.Cohort(0.01);
        feed.Cohort(0.3); // at 200 ms
        feed.Cohort(0.0);

        Assert.Equal(0.3, controller.RecentLoss(TimeSpan.FromMilliseconds(300)), 3);
        Assert.Equal(0.3, controller.RecentLoss(TimeSpan.FromMilliseconds(200) + RateController.RecentLossWindow), 3);
        Assert.Equal(0, controller.RecentLoss(TimeSpan.FromMilliseconds(300) + RateController.RecentLossWindow));
    }

    /// <summary>A path that loses 30% from the start: one back-off shows the loss is not the rate's, and the rate goes back.</summary>
    [Fact]
    public void Observe_LossThatSlowingDoesNotReduce_IsThePathsOwnAndTheRateGoesBack()
    {
        var controller = new RateController(100_000);
        var feed = new Feed(controller);
        feed.Cohort(0.3);
        Assert.Equal(60_000, controller.Rate);

        Assert.True(feed.Cohort(0.3)); // sent at 60,000/s, as lossy

        Assert.Equal(100_000, controller.Rate);
        Assert.Equal(0.3, controller.CleanLoss!.Value, 3);
        Assert.False(controller.Saturated(TimeSpan.FromMilliseconds(300)));
        for (var i = 0; i < 20; i++)
            Assert.False(feed.Cohort(0.3));
    }

    [Fact]
    public void Observe_TooFewAnswersForASample_WaitsForMore()
    {
        var controller = new RateController(100_000);

        Assert.False(controller.Observe(100_000, 100, 0, TimeSpan.FromMilliseconds(100)));
        Assert.Null(controller.CleanLoss);
        Assert.False(controller.Observe(100_000, 190, 10, TimeSpan.FromMilliseconds(200))); // 300 answers together: a sample

        Assert.Equal(10 / 290.0, controller.CleanLoss);
        Assert.Equal(100_000, controller.Rate);
    }
}
